import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { apiClient, ingestPolicies, issueKey, startStack, type ApiClient, type Stack } from '../helpers/stack';

const QUESTION = 'How many days do customers have to return an item?';

/**
 * The model registry and tenant allow-lists over the real stack: a tenant allowed only the
 * second model is never routed to the first, not when the second fails (the answer is
 * extractive instead) and not through an experiment; the registry lists latency measured from
 * the calls. The two models are one loopback server that answers like a provider.
 */
describe('model registry and allow-lists end to end', () => {
  let stack: Stack;
  let model: FakeOpenAiServer;
  let acme: ApiClient;
  const primaryCalls = () => model.requests.filter((r) => r.body.model === 'primary-model').length;
  const ask = (client: ApiClient) => client.postJson('/v1/query', { collection: 'policies', question: QUESTION, topK: 3, cache: 'off' });

  before(async () => {
    model = await new FakeOpenAiServer(groundedReply).start();
    const candidate = (name: string, typicalLatencyMs: number) => ({ name, kind: 'openai', model: `${name}-model`, baseUrl: model.url, apiKeyEnv: 'FAKE_PROVIDER_KEY', contextTokens: 16_000, typicalLatencyMs });
    stack = await startStack({ CHAT_MODELS: JSON.stringify([candidate('primary', 100), candidate('secondary', 5000)]) });
    assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id: 'acme', name: 'ACME', settings: { models: { allowed: ['secondary'] } } })).status, 201);
    acme = apiClient(stack.baseUrl, await issueKey(stack.operator, 'acme'));
    await ingestPolicies(acme);
    await ingestPolicies(stack.api);
  });
  after(async () => {
    await stack?.close();
    await model?.stop();
  });

  it('routes a tenant only to the models on its allow-list', async () => {
    const before = primaryCalls();
    for (let i = 0; i < 5; i++) {
      const answer = await ask(acme);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.model.provider, 'secondary');
      assert.ok(answer.body.fallbacks.includes("primary: not on this tenant's allow-list"), JSON.stringify(answer.body.fallbacks));
    }
    assert.equal(primaryCalls(), before, 'no request reached the first model');
  });

  it('answers extractively when its allowed model fails, rather than use another', async () => {
    const before = primaryCalls();
    model.next({ status: 400, body: { error: { message: 'bad request' } } });
    const answer = await ask(acme);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.model.provider, 'extractive');
    assert.equal(primaryCalls(), before);
  });

  it('refuses an experiment variant on a model the tenant may not use, and an allow-list naming an unknown model', async () => {
    const refused = await acme.postJson('/v1/experiments', { name: 'x', variants: [{ name: 'a', weight: 50 }, { name: 'b', weight: 50, model: 'primary' }] });
    assert.deepEqual([refused.status, refused.body.error.code], [422, 'model_not_allowed']);
    const typo = await stack.operator.send('PATCH', '/v1/admin/tenants/acme', { settings: { models: { allowed: ['secondry'] } } });
    assert.deepEqual([typo.status, typo.body.error?.code], [422, 'unknown_model']);
    const self = await acme.send('PATCH', '/v1/admin/tenants/acme', { settings: { models: { allowed: null } } });
    assert.equal(self.status, 403, "a tenant's own admin cannot widen its allow-list");
  });

  it("keeps each change to a tenant's model routing as deployment evidence, and none for a refused one", async () => {
    const evidence = async () => (await stack.operator.get('/v1/deployments?kind=model_routing&target=acme')).body.deployments;
    assert.deepEqual(await evidence(), [], 'the 422 and 403 above changed nothing');
    assert.equal((await stack.operator.send('PATCH', '/v1/admin/tenants/acme', { settings: { models: { allowed: ['secondary', 'primary'] } } })).status, 200);
    assert.equal((await stack.operator.send('PATCH', '/v1/admin/tenants/acme', { settings: { budgets: { tokensPerMinute: 100_000 } } })).status, 200, 'not a routing change');
    assert.equal((await stack.operator.send('PATCH', '/v1/admin/tenants/acme', { settings: { models: { allowed: ['secondary'] } } })).status, 200);
    const kept = await evidence();
    assert.deepEqual(kept.map((d: any) => d.decision), ['applied', 'applied'], JSON.stringify(kept));
    const [back, widened] = kept;
    assert.deepEqual(JSON.parse(widened.toVersion).allowed, ['secondary', 'primary']);
    assert.deepEqual(JSON.parse(widened.fromVersion).allowed, ['secondary']);
    assert.deepEqual(JSON.parse(back.toVersion).allowed, ['secondary']);
    assert.ok(widened.approvedBy && widened.platformCommit && widened.configHash);
  });

  it('lists the models with measured latency, and what the caller may use', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await ask(stack.api)).body.model.provider, 'primary', 'the default tenant may use every model');
    const listed = await acme.get('/v1/models');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const byName = Object.fromEntries(listed.body.models.map((m: any) => [m.name, m]));
    assert.deepEqual([byName.primary.allowed, byName.secondary.allowed], [false, true]);
    assert.equal(byName.secondary.measuredLatencyMs.calls, 5, 'the five valid answers, not the failed call');
    assert.equal(byName.secondary.measuredLatencyMs.usedForRouting, true);
    assert.ok(byName.secondary.measuredLatencyMs.p50 > 0 && byName.secondary.measuredLatencyMs.p50 < 5000, 'measured, not the configured 5000 ms');
    assert.equal(byName.primary.measuredLatencyMs.calls, 3);
    assert.deepEqual(byName.primary.capabilities, ['json_schema', 'streaming']);
  });
});
