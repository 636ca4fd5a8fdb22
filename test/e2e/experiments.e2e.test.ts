import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { shippedPromptWith } from '../helpers/prompts';
import { apiClient, ingestPolicies, issueKey, startStack, type ApiClient, type Stack } from '../helpers/stack';

const QUESTION = 'How many days do customers have to return an item?';
const ANSWERS = 200;
const canaryPrompt = shippedPromptWith('CANARY.');

/**
 * An A/B experiment over the real stack: a 50/50 split between the production prompt on the
 * configured model and a canary prompt on a second model, sticky by subject, with per-variant
 * results that count what was served and what users said of it. The two models are one loopback
 * server that answers like a provider (the edge of the world).
 */
describe('experiments end to end', () => {
  let stack: Stack;
  let model: FakeOpenAiServer;
  let acme: ApiClient;
  let experimentId: string;
  const served: any[] = [];

  before(async () => {
    model = await new FakeOpenAiServer(groundedReply).start();
    const candidate = (name: string) => ({ name, kind: 'openai', model: `${name}-model`, baseUrl: model.url, apiKeyEnv: 'FAKE_PROVIDER_KEY', contextTokens: 16_000, costPerMillionInputUsd: 1, costPerMillionOutputUsd: 2 });
    stack = await startStack({ CHAT_MODELS: JSON.stringify([candidate('primary'), candidate('secondary')]) });
    await ingestPolicies(stack.api);
    assert.equal((await stack.operator.postJson('/v1/prompts/grounded-answer/versions', { content: canaryPrompt })).status, 201);
    assert.equal((await stack.operator.send('PUT', '/v1/prompts/grounded-answer/labels/canary', { version: 2 })).status, 200);
    assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id: 'acme', name: 'ACME' })).status, 201);
    acme = apiClient(stack.baseUrl, await issueKey(stack.operator, 'acme'));
  });
  after(async () => {
    await stack?.close();
    await model?.stop();
  });

  it('refuses experiments that cannot run: weights, labels, models', async () => {
    const base = { name: 'bad', variants: [{ name: 'a', weight: 50 }, { name: 'b', weight: 40 }] };
    assert.equal((await stack.api.postJson('/v1/experiments', base)).status, 400);
    const label = await stack.api.postJson('/v1/experiments', { name: 'bad', variants: [{ name: 'a', weight: 50 }, { name: 'b', weight: 50, promptLabel: 'nightly' }] });
    assert.deepEqual([label.status, label.body.error.code], [422, 'unknown_prompt_label']);
    const unknownModel = await stack.api.postJson('/v1/experiments', { name: 'bad', variants: [{ name: 'a', weight: 50 }, { name: 'b', weight: 50, model: 'gpt-9' }] });
    assert.deepEqual([unknownModel.status, unknownModel.body.error.code], [422, 'unknown_model']);
    assert.equal((await stack.api.get('/v1/experiments')).body.experiments.length, 0);
  });

  it('starts a 50/50 experiment, one per scope', async () => {
    const created = await stack.api.postJson('/v1/experiments', {
      name: 'canary prompt on the second model',
      collection: 'policies',
      variants: [{ name: 'control', weight: 50 }, { name: 'canary', weight: 50, promptLabel: 'canary', model: 'secondary' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.state, 'draft');
    experimentId = created.body.id;
    const started = await stack.api.postJson(`/v1/experiments/${experimentId}/start`, {});
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal(started.body.state, 'running');
    const rival = await stack.api.postJson('/v1/experiments', { name: 'rival', collection: 'policies', variants: [{ name: 'a', weight: 50 }, { name: 'b', weight: 50 }] });
    const refused = await stack.api.postJson(`/v1/experiments/${rival.body.id}/start`, {});
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'experiment_already_running']);
    assert.equal((await acme.get(`/v1/experiments/${experimentId}`)).status, 404, "another tenant's experiment is not found");
  });

  it('splits answers by subject, the same subject always in the same variant', async () => {
    for (let i = 0; i < ANSWERS; i++) {
      // 100 subjects, each asking twice; the cache is off so that every answer is a model's.
      const response = await stack.api.postJson('/v1/query', { collection: 'policies', question: QUESTION, topK: 3, subject: `user-${i % 100}`, cache: 'off' });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      served.push({ subject: `user-${i % 100}`, ...response.body });
    }
    const bySubject = new Map<string, Set<string>>();
    for (const answer of served) bySubject.set(answer.subject, (bySubject.get(answer.subject) ?? new Set()).add(answer.experiment.variant));
    assert.ok([...bySubject.values()].every((variants) => variants.size === 1), 'sticky');
    const canary = served.filter((a) => a.experiment.variant === 'canary');
    // 100 subjects at 50%: the standard deviation is 5 subjects; 15 is three of them.
    assert.ok(Math.abs(canary.length / 2 - 50) <= 15, `${canary.length / 2} of 100 subjects in canary`);
    for (const answer of canary) {
      assert.deepEqual([answer.prompt.version, answer.prompt.label, answer.model.provider], [2, 'canary', 'secondary']);
      assert.equal(answer.experiment.sticky, true);
    }
    for (const answer of served.filter((a) => a.experiment.variant === 'control')) assert.deepEqual([answer.prompt.version, answer.model.provider], [1, 'primary']);
    const sentCanary = model.requests.filter((r) => r.body.messages?.[0]?.content.startsWith('CANARY')).length;
    assert.equal(sentCanary, canary.length, 'the canary prompt reached the model once per canary answer');
  });

  it('reports per-variant results with the counts behind them, feedback included', async () => {
    const rate = async (answer: any, rating: string) => assert.equal((await stack.api.postJson(`/v1/answers/${answer.answerId}/feedback`, { rating })).status, 201);
    const control = served.filter((a) => a.experiment.variant === 'control');
    const canary = served.filter((a) => a.experiment.variant === 'canary');
    await rate(control[0], 'up');
    await rate(control[1], 'down');
    await rate(canary[0], 'up');
    const results = await stack.api.get(`/v1/experiments/${experimentId}/results`);
    assert.equal(results.status, 200, JSON.stringify(results.body));
    const byName = Object.fromEntries(results.body.variants.map((v: any) => [v.variant, v]));
    assert.equal(byName.control.answers, control.length);
    assert.equal(byName.canary.answers, canary.length);
    assert.deepEqual(byName.control.feedback, { rated: 2, up: 1, down: 1, score: 0.5 });
    assert.deepEqual(byName.canary.feedback, { rated: 1, up: 1, down: 0, score: 1 });
    assert.equal(byName.canary.notFound.count, canary.filter((a) => !a.found).length);
    const tokens = (answers: any[]) => answers.reduce((sum, a) => sum + a.usage.inputTokens, 0);
    assert.equal(byName.canary.tokens.input, tokens(canary));
    assert.ok(Math.abs(byName.control.costUsd - control.reduce((sum, a) => sum + a.usage.costUsd, 0)) < 1e-9);
    assert.ok(byName.control.latencyMs.p50 > 0 && byName.control.latencyMs.p95 >= byName.control.latencyMs.p50);
    const byVariant = await stack.api.get('/v1/feedback?groupBy=variant');
    assert.deepEqual(byVariant.body.groups.map((g: any) => [g.group, g.rated]), [['canary', 1], ['control', 2]]);
  });

  it('leaves answers that name a prompt label, and answers after the stop, out of the experiment', async () => {
    const named = await stack.api.postJson('/v1/query', { collection: 'policies', question: QUESTION, subject: 'user-1', promptLabel: 'production' });
    assert.equal(named.body.experiment, null);
    const stopped = await stack.api.postJson(`/v1/experiments/${experimentId}/stop`, {});
    assert.equal(stopped.body.state, 'stopped');
    assert.equal((await stack.api.postJson(`/v1/experiments/${experimentId}/stop`, {})).status, 409);
    const after = await stack.api.postJson('/v1/query', { collection: 'policies', question: QUESTION, subject: 'user-1' });
    assert.equal(after.body.experiment, null);
    assert.equal(after.body.prompt.label, 'production');
  });
});
