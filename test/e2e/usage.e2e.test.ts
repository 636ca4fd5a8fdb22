import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { POLICIES } from '../helpers/fixtures';
import { apiClient, issueKey, startStack, waitReady, type ApiClient, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

/**
 * The usage and cost ledger through the API: every model and embedding call is a row, an admin
 * reads their tenant's totals, an operator everyone's, and a tenant's daily cost ceiling refuses
 * a query before it spends.
 */
describe('usage ledger and cost ceilings end to end', () => {
  let stack: Stack;
  let model: FakeOpenAiServer;
  let acme: ApiClient;
  const answers: any[] = [];
  const question = 'How long do I have to return an item?';
  // The same question each time, answered afresh: a cache hit makes no call (test/e2e/answer-cache.e2e.test.ts).
  const ask = () => stack.api.postJson('/v1/query', { collection: 'policies', question, topK: 3, cache: 'off' });
  const usage = async (client: ApiClient, query: string) => {
    const response = await client.get(`/v1/usage?${query}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  };
  const setCeiling = async (costUsdPerDay: number | null) =>
    assert.equal((await stack.operator.send('PATCH', '/v1/admin/tenants/default', { settings: { budgets: { costUsdPerDay } } })).status, 200);

  before(async () => {
    model = await new FakeOpenAiServer(groundedReply).start();
    stack = await startStack({
      // The ledger's rows are real calls: with the embedding cache a re-index finds the policy's sentences
      // already embedded (the answers scored them) and makes none. The cache has its own tests.
      EMBEDDING_CACHE: 'off',
      // Prices high enough that a handful of fake calls cost whole dollars.
      CHAT_MODELS: JSON.stringify([
        { name: 'primary', kind: 'openai', model: 'primary-model', baseUrl: model.url, apiKeyEnv: 'FAKE_PROVIDER_KEY', contextTokens: 16_000, costPerMillionInputUsd: 100_000, costPerMillionOutputUsd: 400_000 },
      ]),
    });
    assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id: 'acme', name: 'ACME' })).status, 201);
    acme = apiClient(stack.baseUrl, await issueKey(stack.operator, 'acme'));
    const upload = await stack.api.postJson('/v1/collections/policies/documents', { text: POLICIES.refunds.text, mediaType: 'text/markdown', documentId: 'refunds' });
    assert.equal(upload.status, 202, JSON.stringify(upload.body));
    await waitReady(stack.api, 'refunds');
    for (let i = 0; i < 2; i++) {
      const answer = await ask();
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      answers.push(answer.body);
    }
  });
  after(async () => {
    await stack?.close();
    await model?.stop();
  });

  it('has a row per chat call and per embedding call, charged to the key, the collection and the purpose', async () => {
    const byOperation = await usage(stack.api, 'groupBy=operation');
    assert.equal(byOperation.tenantId, 'default');
    const chat = byOperation.groups.find((g: any) => g.group === 'chat');
    assert.equal(chat.calls, 2);
    assert.equal(chat.inputTokens, answers.reduce((sum, a) => sum + a.usage.inputTokens, 0));
    assert.equal(chat.outputTokens, answers.reduce((sum, a) => sum + a.usage.outputTokens, 0));
    assert.ok(Math.abs(chat.costUsd - answers.reduce((sum, a) => sum + a.usage.costUsd, 0)) < 1e-9);
    const embeddings = byOperation.groups.find((g: any) => g.group === 'embeddings');
    assert.ok(embeddings.calls >= 3 && embeddings.inputTokens > 0, JSON.stringify(embeddings));

    const byPurpose = await usage(stack.api, 'groupBy=purpose');
    assert.deepEqual(byPurpose.groups.map((g: any) => g.group).sort(), ['ingest', 'query']);
    const byModel = await usage(stack.api, 'groupBy=model');
    assert.ok(byModel.groups.some((g: any) => g.group === 'primary/primary-model' && g.calls === 2));
    assert.ok(byModel.groups.some((g: any) => g.group.startsWith('onnxruntime/')));
    const keyId = (await stack.api.get('/v1/admin/tenants/default/keys')).body.keys[0].id;
    const byKey = await usage(stack.api, 'groupBy=key');
    // Queries are charged to the key that asked; ingestion runs to no key.
    const callsFor = (groups: any[], group: string) => groups.find((g) => g.group === group)?.calls;
    assert.equal(callsFor(byKey.groups, keyId), callsFor(byPurpose.groups, 'query'));
    assert.equal(callsFor(byKey.groups, '(no key)'), callsFor(byPurpose.groups, 'ingest'));
    const byCollection = await usage(stack.api, 'groupBy=collection');
    assert.deepEqual(byCollection.groups.map((g: any) => g.group), ['policies']);
    const byDay = await usage(stack.api, 'groupBy=day');
    assert.deepEqual(byDay.groups.map((g: any) => g.group), [new Date().toISOString().slice(0, 10)]);
  });

  it('charges a re-index its embeddings, the gate\'s eval questions included, with no key', async () => {
    assert.equal((await stack.api.putJson('/v1/collections/policies/eval-set', { questions: [{ question, relevantDocumentIds: ['refunds'] }] })).status, 200);
    const before = (await usage(stack.api, 'groupBy=purpose')).groups.find((g: any) => g.group === 'reindex')?.calls ?? 0;
    const started = await stack.api.postJson('/v1/collections/policies/reindex', { chunkSizeTokens: 60, chunkOverlapTokens: 10 });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor('the re-index to finish', async () => (await stack.api.get(`/v1/collections/policies/reindex/${started.body.id}`)).body, (run) => ['done', 'failed', 'gate_failed'].includes(run.stage), 180_000, 200);
    const reindex = (await usage(stack.api, 'groupBy=purpose')).groups.find((g: any) => g.group === 'reindex');
    // One batch for the one document, and the eval question embedded for the live and the new generation.
    assert.ok(reindex.calls - before >= 3, JSON.stringify(reindex));
    const byKey = await usage(stack.api, 'groupBy=key');
    assert.ok(byKey.groups.some((g: any) => g.group === '(no key)' && g.calls >= reindex.calls));
  });

  it('shows an admin their own tenant only, and an operator every tenant', async () => {
    assert.equal((await usage(acme, 'groupBy=day')).total.calls, 0);
    const foreign = await acme.get('/v1/usage?tenantId=default');
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 'tenant_not_found');
    const everyone = await usage(stack.operator, 'groupBy=tenant');
    assert.equal(everyone.tenantId, null);
    assert.ok(everyone.groups.some((g: any) => g.group === 'default' && g.calls >= 2));
    assert.equal((await usage(stack.operator, 'tenantId=acme')).total.calls, 0);
  });

  it('refuses bad ranges and groupings with 400', async () => {
    for (const query of ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'groupBy=colour', 'from=yesterday']) {
      const response = await stack.api.get(`/v1/usage?${query}`);
      assert.equal(response.status, 400, query);
      assert.ok(['invalid_range', 'invalid_request'].includes(response.body.error.code), JSON.stringify(response.body));
    }
  });

  it('refuses a query before it spends once the day spent and its estimate pass the ceiling, and answers again when the ceiling is raised', async () => {
    const spent = (await usage(stack.api, 'groupBy=day')).total.costUsd;
    assert.ok(spent > 1, `spent ${spent}`);
    // A ceiling below the estimate of one query: 422, with the estimate.
    await setCeiling(0.01);
    const tooBig = await ask();
    assert.equal(tooBig.status, 422, JSON.stringify(tooBig.body));
    assert.equal(tooBig.body.error.code, 'request_exceeds_cost_ceiling');
    const estimate = tooBig.body.error.details.requestedUsd as number;
    assert.ok(estimate > 0);
    // Room for the estimate, but not on top of today's spend: 429 with the reason, and nothing spent.
    const callsBefore = model.requests.length;
    await setCeiling(estimate + spent / 2);
    const refused = await ask();
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'cost_ceiling_reached');
    assert.equal(refused.body.error.details.reason, 'cost_usd_per_day');
    assert.ok(Math.abs(refused.body.error.details.spentUsd - spent) < 1e-6);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(model.requests.length, callsBefore);
    assert.equal((await usage(stack.api, 'groupBy=day')).total.costUsd, spent);
    // Enough room: answered, and the hold of the refused requests did not linger.
    await setCeiling(estimate + spent + 1);
    const answered = await ask();
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    await setCeiling(null);
  });
});
