import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { POLICIES } from '../helpers/fixtures';
import { startRedis } from '../helpers/redis';
import { apiClient, ingestPolicies, issueKey, startStack, streamQuery, UNTHROTTLED, waitReady, type ApiClient, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

const QUESTION = 'How many days do customers have to return an item?';
/** The same content words in another order: a paraphrase the semantic cache must take. */
const PARAPHRASE = 'Customers have how many days to return an item?';

const ask = (api: ApiClient, question: string, extra: Record<string, unknown> = {}) => api.postJson('/v1/query', { collection: 'policies', question, ...extra });
const ledgerRows = async (stack: Stack) => Number((await stack.platform.db.query<{ n: string }>('select count(*) as n from usage_events'))[0]?.n);

/**
 * The answer cache over the real stack (embedded database as its store): exact and semantic
 * hits, misses after every change to what the collection serves, no entry shared by tenants,
 * a cached answer streamed, and nothing charged for a hit.
 */
describe('answer cache: hits, and never a stale or foreign answer', () => {
  let stack: Stack;
  let api: ApiClient;
  let first: any;

  before(async () => {
    stack = await startStack();
    api = stack.api;
    await ingestPolicies(api);
  });
  after(() => stack?.close());

  it('answers the same question twice from one run: the second is an exact hit that spends nothing', async () => {
    const fresh = await ask(api, QUESTION);
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    first = fresh.body;
    assert.equal(first.cache.hit, 'miss');
    assert.equal(first.found, true, first.answer);
    const rowsBefore = await ledgerRows(stack);

    const again = await ask(api, `  ${QUESTION.toLowerCase().replace('?', '')}  `);
    assert.equal(again.status, 200);
    assert.equal(again.body.cache.hit, 'exact', 'case, spacing and the question mark do not matter');
    assert.ok(again.body.cache.ageSeconds >= 0);
    assert.equal(again.body.cache.traceId, first.traceId, 'the run that made the answer');
    assert.notEqual(again.body.traceId, first.traceId, "and this request's own trace");
    assert.equal(again.body.workflowId, first.workflowId);
    assert.equal(again.body.answer, first.answer);
    assert.deepEqual(again.body.citations, first.citations);
    assert.deepEqual([again.body.usage.inputTokens, again.body.usage.outputTokens, again.body.usage.calls.length], [0, 0, 0]);
    assert.equal(await ledgerRows(stack), rowsBefore, 'no model or embedding call was made for the hit');
    assert.ok(again.body.guardrails.some((d: any) => d.check === 'answer_cache'), 'the audit trail says it came from the cache');
  });

  it('serves a paraphrase as a semantic hit, with the question it matched', async () => {
    const rowsBefore = await ledgerRows(stack);
    const response = await ask(api, PARAPHRASE);
    assert.equal(response.status, 200);
    assert.equal(response.body.cache.hit, 'semantic', JSON.stringify(response.body.cache));
    assert.equal(response.body.cache.matchedQuestion, QUESTION);
    assert.ok(response.body.cache.similarity >= 0.9 && response.body.cache.similarity <= 1);
    assert.equal(response.body.answer, first.answer);
    assert.equal(response.body.usage.calls.length, 0);
    // Comparing it took one embedding of the new question: in the ledger, charged to the key; no model call.
    const rows = await stack.platform.db.query<{ operation: string; purpose: string; key_id: string | null; trace_id: string }>('select operation, purpose, key_id, trace_id from usage_events order by id offset $1', [rowsBefore]);
    assert.deepEqual(rows.map((r) => [r.operation, r.purpose, r.trace_id]), [['embeddings', 'query', response.body.traceId]]);
    assert.ok(rows[0]?.key_id);
  });

  it('misses a near miss: the same words, another question', async () => {
    const response = await ask(api, 'How many days do customers not have to return an item?');
    assert.equal(response.status, 200);
    assert.equal(response.body.cache.hit, 'miss');
  });

  it('answers afresh when asked to, without touching the entry', async () => {
    const off = await ask(api, QUESTION, { cache: 'off' });
    assert.equal(off.body.cache.hit, 'off');
    assert.notEqual(off.body.workflowId, first.workflowId, 'a new run');
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'exact');
  });

  it('streams a cached answer like a fresh one', async () => {
    const { status, events } = await streamQuery({ baseUrl: stack.baseUrl, apiKey: stack.apiKey }, { collection: 'policies', question: QUESTION });
    assert.equal(status, 200);
    const final = events.at(-1);
    assert.equal(final?.event, 'answer');
    assert.equal(final?.data.cache.hit, 'exact');
    const deltas = events.filter((e) => e.event === 'delta');
    assert.ok(deltas.length >= 1);
    assert.equal(deltas.map((e) => e.data.text).join(''), final?.data.answer, 'the streamed text is the answer');
  });

  it('misses after the cited document is replaced, and answers from the new version', async () => {
    const replaced = POLICIES.refunds.text.replace('thirty days', 'sixty days');
    const upload = await api.postJson('/v1/collections/policies/documents', { text: replaced, mediaType: 'text/markdown', documentId: 'refunds', metadata: { team: 'support' } });
    assert.equal(upload.status, 202);
    await waitReady(api, 'refunds', 2);
    const response = await ask(api, QUESTION);
    assert.equal(response.body.cache.hit, 'miss');
    assert.match(response.body.answer, /sixty days/);
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'exact', 'and the new answer is cached in turn');
  });

  it('misses after a re-index swaps generations, and after a rollback', async () => {
    const finished = async (started: { status: number; body: any }) => {
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const run = await waitFor('the run', async () => (await api.get(`/v1/collections/policies/reindex/${started.body.id}`)).body, (r) => ['done', 'gate_failed', 'failed'].includes(r.stage), 180_000, 100);
      assert.equal(run.stage, 'done', JSON.stringify(run));
    };
    await finished(await api.postJson('/v1/collections/policies/reindex', { chunkSizeTokens: 120, chunkOverlapTokens: 10 }));
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'miss', 'after the swap');
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'exact');
    await finished(await api.postJson('/v1/collections/policies/rollback', {}));
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'miss', 'after the rollback');
  });

  it('misses after a document is deleted', async () => {
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'exact');
    assert.equal((await api.delete('/v1/documents/travel')).status, 202);
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'miss');
  });

  it('never shares an entry between tenants with the same collection and question', async () => {
    assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id: 'other', name: 'Other' })).status, 201);
    const other = apiClient(stack.baseUrl, await issueKey(stack.operator, 'other', undefined, UNTHROTTLED));
    await ingestPolicies(other);
    assert.equal((await ask(api, QUESTION)).body.cache.hit, 'exact', "the first tenant's entry is there");
    const theirs = await ask(other, QUESTION);
    assert.equal(theirs.status, 200);
    assert.equal(theirs.body.cache.hit, 'miss');
    assert.match(theirs.body.answer, /thirty days/, "their own documents' answer");
  });

  it('follows the tenant setting: exact only means a paraphrase is a miss', async () => {
    assert.equal((await stack.operator.send('PATCH', '/v1/admin/tenants/other', { settings: { cache: { answers: 'exact' } } })).status, 200);
    const other = apiClient(stack.baseUrl, await issueKey(stack.operator, 'other', undefined, UNTHROTTLED));
    assert.equal((await ask(other, QUESTION)).body.cache.hit, 'exact');
    assert.equal((await ask(other, PARAPHRASE)).body.cache.hit, 'miss');
  });
});

describe('answer cache in Redis: shared, and a miss when Redis goes away', { skip: startRedis.unavailable() || undefined }, () => {
  let stack: Stack;
  let redis: Awaited<ReturnType<typeof startRedis>>;

  before(async () => {
    redis = await startRedis();
    stack = await startStack({ REDIS_URL: redis.url, CACHE_DEADLINE_MS: '300' });
    await ingestPolicies(stack.api);
  });
  after(async () => {
    await stack?.close();
    await redis?.stop();
  });

  it('keeps entries in Redis, and answers with misses, not errors, once Redis is stopped', async () => {
    assert.equal((await ask(stack.api, QUESTION)).body.cache.hit, 'miss');
    assert.equal((await ask(stack.api, QUESTION)).body.cache.hit, 'exact');
    const probe = new Redis(redis.url);
    try {
      assert.ok((await probe.keys('rag:cache:answer:*')).length >= 1, 'the answer is in Redis');
      assert.ok((await probe.keys('rag:cache:vector:*')).length >= 1, 'and so are the embeddings');
    } finally {
      probe.disconnect();
    }

    await redis.stop();
    for (const question of [QUESTION, PARAPHRASE]) {
      const response = await ask(stack.api, question);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.cache.hit, 'miss');
      assert.equal(response.body.found, true);
    }
    const upload = await stack.api.postJson('/v1/collections/policies/documents', { text: 'Gift cards never expire.', mediaType: 'text/markdown', documentId: 'gift-cards' });
    assert.equal(upload.status, 202);
    await waitReady(stack.api, 'gift-cards');
    const metrics = await stack.platform.metrics.render();
    assert.match(metrics.body, /rag_cache_lookups_total\{cache="answer",outcome="error"\} [1-9]/);
    assert.match(metrics.body, /rag_cache_lookups_total\{cache="embedding",outcome="error"\} [1-9]/);
  });
});
