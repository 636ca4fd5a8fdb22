import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, ingestPolicies, issueKey, startStack, streamQuery, type ApiClient, type Stack } from '../helpers/stack';

const ask = (api: ApiClient, question: string, extra: Record<string, unknown> = {}) => api.postJson('/v1/query', { collection: 'policies', question, topK: 3, ...extra });

/**
 * Feedback over the real stack: every served answer has an id and a record of how it was
 * answered, only its tenant can rate it, ratings are summed per prompt version and collection,
 * and rated answers become labeled questions for the eval set.
 */
describe('feedback on answers end to end', () => {
  let stack: Stack;
  let api: ApiClient;
  let acme: ApiClient;
  let answered: any;

  before(async () => {
    stack = await startStack();
    api = stack.api;
    await ingestPolicies(api);
    assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id: 'acme', name: 'ACME' })).status, 201);
    acme = apiClient(stack.baseUrl, await issueKey(stack.operator, 'acme'));
    const response = await ask(api, 'How many days do customers have to return an item?');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    answered = response.body;
  });
  after(() => stack?.close());

  it('records each served answer with what produced it', async () => {
    assert.match(answered.answerId, /^[0-9a-f-]{36}$/);
    const record = await api.get(`/v1/answers/${answered.answerId}`);
    assert.equal(record.status, 200, JSON.stringify(record.body));
    assert.equal(record.body.question, 'How many days do customers have to return an item?');
    assert.equal(record.body.answer, answered.answer);
    assert.equal(record.body.promptVersion, answered.promptVersion);
    assert.deepEqual([record.body.provider, record.body.model], [answered.model.provider, answered.model.model]);
    assert.equal(record.body.traceId, answered.traceId);
    assert.equal(record.body.workflowId, answered.workflowId);
    assert.equal(record.body.generation, 1, 'the live generation it was answered from');
    assert.deepEqual(record.body.citations.map((c: any) => c.documentId), answered.citations.map((c: any) => c.documentId));
    assert.equal(record.body.feedback, null);
  });

  it('gives a cached answer served again an id of its own', async () => {
    const again = await ask(api, 'How many days do customers have to return an item?');
    assert.equal(again.body.cache.hit, 'exact');
    assert.notEqual(again.body.answerId, answered.answerId);
    assert.equal((await api.get(`/v1/answers/${again.body.answerId}`)).body.cacheHit, 'exact');
  });

  it('gives a streamed answer an id too', async () => {
    const streamed = await streamQuery({ baseUrl: stack.baseUrl, apiKey: stack.apiKey }, { collection: 'policies', question: 'When must a lost laptop be reported?', cache: 'off' });
    const final = streamed.events.find((e) => e.event === 'answer')?.data;
    assert.ok(final?.answerId, JSON.stringify(streamed.events.at(-1)));
    assert.equal((await api.get(`/v1/answers/${final.answerId}`)).status, 200);
  });

  it('takes a rating (201), replaces it when sent again (200), and shows it on the answer', async () => {
    const first = await api.postJson(`/v1/answers/${answered.answerId}/feedback`, { rating: 'down', comment: 'too long' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.replaced, false);
    const second = await api.postJson(`/v1/answers/${answered.answerId}/feedback`, { rating: 'up', expected: { documentId: 'refunds', chunkId: answered.citations[0].chunkId } });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.replaced, true);
    const record = await api.get(`/v1/answers/${answered.answerId}`);
    assert.equal(record.body.feedback.rating, 'up');
    assert.equal(record.body.feedback.comment, null, 'the whole feedback is replaced');
    assert.equal(record.body.feedback.expectedDocumentId, 'refunds');
  });

  it("answers 404 to another tenant's feedback and reads, 422 to a document not in the collection, 400 to a bad rating", async () => {
    const foreign = await acme.postJson(`/v1/answers/${answered.answerId}/feedback`, { rating: 'down' });
    assert.equal(foreign.status, 404, JSON.stringify(foreign.body));
    assert.equal(foreign.body.error.code, 'answer_not_found');
    assert.equal((await acme.get(`/v1/answers/${answered.answerId}`)).status, 404);
    const unknown = await api.postJson(`/v1/answers/${answered.answerId}/feedback`, { rating: 'down', expected: { documentId: 'no-such-document' } });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.code, 'unknown_document');
    const bad = await api.postJson(`/v1/answers/${answered.answerId}/feedback`, { rating: 'meh' });
    assert.equal(bad.status, 400);
    assert.equal((await api.postJson('/v1/answers/not-a-uuid/feedback', { rating: 'up' })).status, 400);
    assert.equal((await api.get(`/v1/answers/${answered.answerId}`)).body.feedback.rating, 'up', 'the refused requests changed nothing');
  });

  it('sums answers and ratings per prompt version and per collection', async () => {
    const unanswerable = await ask(api, 'What is the dress code for the annual gala?', { cache: 'off' });
    assert.equal(unanswerable.body.found, false, unanswerable.body.answer);
    assert.equal((await api.postJson(`/v1/answers/${unanswerable.body.answerId}/feedback`, { rating: 'down', correction: 'Say that no policy covers it.' })).status, 201);

    const byPrompt = await api.get('/v1/feedback?groupBy=prompt');
    assert.equal(byPrompt.status, 200, JSON.stringify(byPrompt.body));
    assert.equal(byPrompt.body.tenantId, 'default');
    assert.deepEqual(byPrompt.body.groups.map((g: any) => g.group), [answered.promptVersion]);
    const total = byPrompt.body.total;
    assert.deepEqual([total.answers, total.rated, total.up, total.down, total.notFound], [4, 2, 1, 1, 1], JSON.stringify(total));
    assert.equal(total.score, 0.5);
    const byCollection = await api.get('/v1/feedback?groupBy=collection&collection=policies');
    assert.deepEqual(byCollection.body.groups.map((g: any) => [g.group, g.answers]), [['policies', 4]]);
    const acmeView = await acme.get('/v1/feedback');
    assert.equal(acmeView.body.total.answers, 0, "a tenant's admin sees its own tenant only");
    assert.equal((await acme.get('/v1/feedback?tenantId=default')).status, 404);
  });

  it('exports rated answers as labeled questions the eval set takes as they are', async () => {
    const refused = await ask(api, 'Is there a company gym?', { cache: 'off' });
    assert.equal(refused.body.found, false, refused.body.answer);
    assert.equal((await api.postJson(`/v1/answers/${refused.body.answerId}/feedback`, { rating: 'up' })).status, 201);
    const exported = await api.get('/v1/collections/policies/eval-candidates');
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    assert.deepEqual(exported.body.questions, [
      { question: 'Is there a company gym?', relevantDocumentIds: [] },
      { question: 'How many days do customers have to return an item?', relevantDocumentIds: ['refunds'] },
    ]);
    assert.deepEqual(exported.body.sources.map((s: any) => s.labeledBy), ['refused', 'expected'], 'a refusal rated up is an unanswerable question');
    assert.equal(exported.body.skipped, 1, 'the "down" on the refusal names no document');
    const stored = await api.send('PUT', '/v1/collections/policies/eval-set', { questions: exported.body.questions });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    assert.equal((await api.get('/v1/collections/nothing-here/eval-candidates')).status, 404);
  });
});
