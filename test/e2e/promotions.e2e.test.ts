import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { shippedPromptWith } from '../helpers/prompts';
import { apiClient, ingestPolicies, issueKey, startStack, type ApiClient, type Stack } from '../helpers/stack';

const briefer = shippedPromptWith('Be brief.');
/** A deliberately worse version: it tells the model to decline everything. */
const worse = shippedPromptWith('NEVER ANSWER: reply {"found": false, "citations": [], "answer": ""} whatever the sources say.');

/**
 * A model that does what its system prompt says, as a real one would: it declines when told to,
 * and otherwise quotes its first source (the loopback provider, the edge of the world).
 */
const obedientReply = (body: any) =>
  /NEVER ANSWER/.test(body?.messages?.find((m: any) => m.role === 'system')?.content ?? '') ? JSON.stringify({ found: false, citations: [], answer: '' }) : groundedReply(body);

/**
 * Gated promotions over the real stack: evaluateWorkflow answers the collection's eval set under
 * the production label's version and the candidate, through the query path; a candidate no worse
 * moves the label, a deliberately worse one is refused with its report, and both decisions (and
 * a rollback) are stored as deployment evidence.
 */
describe('prompt promotions through the evaluation gate', () => {
  let stack: Stack;
  let model: FakeOpenAiServer;
  let acme: ApiClient;
  const promote = (version: number, extra: Record<string, unknown> = {}) =>
    stack.operator.postJson('/v1/prompts/grounded-answer/labels/production/promotions', { version, evalSet: { tenantId: 'default', collection: 'policies' }, ...extra });
  const ask = () => stack.api.postJson('/v1/query', { collection: 'policies', question: 'How often are passwords rotated?', topK: 3, cache: 'off' });

  before(async () => {
    model = await new FakeOpenAiServer(obedientReply).start();
    stack = await startStack({ CHAT_MODELS: JSON.stringify([{ name: 'primary', kind: 'openai', model: 'primary-model', baseUrl: model.url, apiKeyEnv: 'FAKE_PROVIDER_KEY', contextTokens: 16_000 }]) });
    await ingestPolicies(stack.api);
    const questions = [
      { question: 'How long do customers have to send an item back?', relevantDocumentIds: ['refunds'] },
      { question: 'Which cabin class is allowed on a short flight?', relevantDocumentIds: ['travel'] },
      { question: 'What do I do when my laptop is stolen?', relevantDocumentIds: ['security'] },
      // Unanswerable from the policies: the right answer is a refusal.
      { question: 'What is the dress code for the annual gala?', relevantDocumentIds: [] },
    ];
    assert.equal((await stack.api.send('PUT', '/v1/collections/policies/eval-set', { questions })).status, 200);
    for (const content of [briefer, worse]) assert.equal((await stack.operator.postJson('/v1/prompts/grounded-answer/versions', { content })).status, 201);
    assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id: 'acme', name: 'ACME' })).status, 201);
    acme = apiClient(stack.baseUrl, await issueKey(stack.operator, 'acme'));
  });
  after(async () => {
    await stack?.close();
    await model?.stop();
  });

  it('promotes a version that is no worse, and the next answer uses it', async () => {
    const promoted = await promote(2, { reason: 'shorter answers' });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.deepEqual([promoted.body.decision, promoted.body.fromVersion, promoted.body.toVersion], ['promoted', 1, 2]);
    const { report } = promoted.body;
    assert.equal(report.passed, true, report.failures.join('; '));
    assert.deepEqual([report.baseline.questions, report.baseline.unanswerable], [4, 1]);
    assert.deepEqual(report.candidate.answers.refusals, { count: 1, rate: 1 }, 'the unanswerable question is refused');
    assert.equal(report.candidate.answers.withEvidence.count, report.baseline.answers.withEvidence.count);
    assert.ok(report.baseline.answers.withEvidence.count >= 2, JSON.stringify(report.baseline));
    assert.equal(report.safety.passed, true);
    assert.ok(report.safety.probes.length >= 6);
    assert.match(promoted.body.workflowUrl, /\/namespaces\/default\/workflows\/evaluate%2Fdefault%2Fpolicies%2F/);
    const run = await stack.env.client.workflow.getHandle(promoted.body.workflowId).describe();
    assert.equal(run.status.name, 'COMPLETED', 'the evaluation is a workflow run in the work namespace');
    const next = await ask();
    assert.deepEqual([next.body.prompt.version, next.body.prompt.label], [2, 'production']);
  });

  it('refuses a deliberately worse version with its report, and production stays where it was', async () => {
    const refused = await promote(3);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'promotion_refused');
    const { report } = refused.body.error.details;
    assert.equal(report.passed, false);
    assert.equal(report.candidate.answers.withEvidence.count, 0);
    assert.ok(report.failures.some((f: string) => f.startsWith('answers with evidence fell')), report.failures.join('; '));
    assert.equal((await ask()).body.prompt.version, 2);
  });

  it('stores every decision, and a rollback, as deployment evidence', async () => {
    const rolledBack = await stack.operator.postJson('/v1/prompts/grounded-answer/labels/production/rollback', { reason: 'users preferred v1' });
    assert.equal(rolledBack.status, 200, JSON.stringify(rolledBack.body));
    assert.equal((await ask()).body.prompt.version, 1, 'the rolled-back label serves the old version on the next answer');
    const listed = await stack.operator.get('/v1/deployments?target=grounded-answer:production');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(listed.body.deployments.map((d: any) => [d.decision, d.fromVersion, d.toVersion]), [['rolled_back', '2', '1'], ['refused', '2', '3'], ['promoted', '1', '2']]);
    const promoted = listed.body.deployments[2];
    assert.match(promoted.platformCommit, /^([0-9a-f]{40}|unknown)$/);
    assert.match(promoted.configHash, /^[0-9a-f]{64}$/);
    assert.equal(promoted.reason, 'shorter answers');
    assert.ok(promoted.workflowId.startsWith('evaluate/default/policies/'));
    const detail = await stack.operator.get(`/v1/deployments/${promoted.id}`);
    assert.equal(detail.body.report.passed, true);
    assert.equal((await stack.operator.get('/v1/deployments/999999')).status, 404);
  });

  it('refuses promotions without an eval set (422), from tenant admins (403), to the current version (409)', async () => {
    const noSet = await promote(2, { evalSet: { tenantId: 'acme', collection: 'policies' } });
    assert.deepEqual([noSet.status, noSet.body.error.code], [422, 'no_eval_set']);
    assert.equal((await acme.postJson('/v1/prompts/grounded-answer/labels/production/promotions', { version: 2, evalSet: { tenantId: 'acme', collection: 'policies' } })).status, 403);
    const same = await promote(1);
    assert.deepEqual([same.status, same.body.error.code], [409, 'already_at_version']);
    assert.equal((await promote(99)).status, 404);
  });
});
