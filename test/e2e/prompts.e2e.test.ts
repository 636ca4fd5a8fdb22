import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { shippedPromptWith } from '../helpers/prompts';
import { apiClient, ingestPolicies, issueKey, startStack, type ApiClient, type Stack } from '../helpers/stack';

const QUESTION = 'How many days do customers have to return an item?';
/** A second version a model can tell apart: its system text carries a marker. */
const briefer = shippedPromptWith('BRIEFER.');

/**
 * The prompt registry over the real stack, with a loopback model that shows which prompt it was
 * sent: the repo's prompt seeds version 1 under "production", operators add versions and move
 * labels, every answer says which version and label it used, and a rolled-back label serves the
 * old version on the next answer.
 */
describe('prompt registry end to end', () => {
  let stack: Stack;
  let model: FakeOpenAiServer;
  let acme: ApiClient;
  const ask = (extra: Record<string, unknown> = {}) => stack.api.postJson('/v1/query', { collection: 'policies', question: QUESTION, topK: 3, ...extra });
  /** The system prompt of the model's last request. */
  const lastSystemPrompt = () => model.requests.at(-1)?.body.messages.find((m: any) => m.role === 'system')?.content as string;

  before(async () => {
    model = await new FakeOpenAiServer(groundedReply).start();
    stack = await startStack({
      CHAT_MODELS: JSON.stringify([{ name: 'primary', kind: 'openai', model: 'primary-model', baseUrl: model.url, apiKeyEnv: 'FAKE_PROVIDER_KEY', contextTokens: 16_000 }]),
    });
    await ingestPolicies(stack.api);
    assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id: 'acme', name: 'ACME' })).status, 201);
    acme = apiClient(stack.baseUrl, await issueKey(stack.operator, 'acme'));
  });
  after(async () => {
    await stack?.close();
    await model?.stop();
  });

  it("seeds the repo's prompt as version 1 under production, and answers record it", async () => {
    const listed = await stack.api.get('/v1/prompts');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const prompt = listed.body.prompts.find((p: any) => p.name === 'grounded-answer');
    assert.deepEqual(prompt.labels.map((l: any) => [l.label, l.version, l.movedBy]), [['production', 1, 'repo']]);
    const answer = await ask();
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.prompt, { name: 'grounded-answer', version: 1, label: 'production' });
    assert.match(answer.body.promptVersion, /^grounded-answer@v1#[0-9a-f]{12}$/);
    assert.doesNotMatch(lastSystemPrompt(), /BRIEFER/);
  });

  it('adds versions (operators only), keeps the same content as one, and refuses one that would not render', async () => {
    const added = await stack.operator.postJson('/v1/prompts/grounded-answer/versions', { content: briefer, note: 'shorter answers' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual([added.body.version, added.body.created, added.body.note], [2, true, 'shorter answers']);
    const again = await stack.operator.postJson('/v1/prompts/grounded-answer/versions', { content: briefer });
    assert.deepEqual([again.status, again.body.version, again.body.created], [200, 2, false]);
    const broken = await stack.operator.postJson('/v1/prompts/grounded-answer/versions', { content: briefer.replace('{{question}}', '{{query}}') });
    assert.equal(broken.status, 422);
    assert.equal(broken.body.error.code, 'invalid_prompt');
    assert.ok(broken.body.error.details.problems.some((p: string) => p.includes('{{query}}')), JSON.stringify(broken.body));
    const tenantAdmin = await acme.postJson('/v1/prompts/grounded-answer/versions', { content: `${briefer}\n` });
    assert.equal(tenantAdmin.status, 403, 'prompts serve every tenant: only operators change them');
    assert.equal((await stack.operator.postJson('/v1/prompts/constructor/versions', { content: briefer })).status, 404);
    const versions = (await stack.api.get('/v1/prompts/grounded-answer')).body.versions;
    assert.deepEqual(versions.map((v: any) => v.version), [1, 2], 'the refused requests added nothing');
    const diff = await stack.api.get('/v1/prompts/grounded-answer/diff?from=1&to=2');
    assert.match(diff.body.diff, /^-You answer questions/m);
    assert.match(diff.body.diff, /^\+BRIEFER\. You answer questions/m);
  });

  it('answers with the version a label points at, asked for by the request', async () => {
    const moved = await stack.operator.send('PUT', '/v1/prompts/grounded-answer/labels/canary', { version: 2, reason: 'try it' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual([moved.body.fromVersion, moved.body.toVersion], [null, 2]);
    const canary = await ask({ promptLabel: 'canary' });
    assert.equal(canary.status, 200, JSON.stringify(canary.body));
    assert.deepEqual(canary.body.prompt, { name: 'grounded-answer', version: 2, label: 'canary' });
    assert.equal(canary.body.cache.hit, 'miss', 'another prompt version is another cache scope');
    assert.match(lastSystemPrompt(), /^BRIEFER/);
    assert.equal((await stack.api.get(`/v1/answers/${canary.body.answerId}`)).body.promptLabel, 'canary');
    // A budget that takes one answer's estimate (about 1,400 tokens at topK 3) but not two: refusals must reserve nothing.
    assert.equal((await stack.operator.send('PATCH', '/v1/admin/tenants/default', { settings: { budgets: { tokensPerMinute: 2_000 } } })).status, 200);
    for (let i = 0; i < 2; i++) {
      const unknown = await ask({ promptLabel: 'nightly' });
      assert.equal(unknown.status, 422, JSON.stringify(unknown.body));
      assert.equal(unknown.body.error.code, 'unknown_prompt_label');
    }
    assert.equal((await stack.operator.send('PATCH', '/v1/admin/tenants/default', { settings: { budgets: { tokensPerMinute: null } } })).status, 200);
    assert.equal((await stack.api.postJson('/v1/query', { collection: 'policies', question: QUESTION, mode: 'retrieve', promptLabel: 'canary' })).status, 400);
  });

  it('moves production only through a promotion, and rolls a moved label back for the next answer', async () => {
    const direct = await stack.operator.send('PUT', '/v1/prompts/grounded-answer/labels/production', { version: 2 });
    assert.deepEqual([direct.status, direct.body.error.code], [409, 'promotion_required']);
    assert.equal((await stack.operator.send('PUT', '/v1/prompts/grounded-answer/labels/beta', { version: 1 })).status, 200);
    assert.equal((await stack.operator.send('PUT', '/v1/prompts/grounded-answer/labels/beta', { version: 2 })).status, 200);
    const moved = await ask({ promptLabel: 'beta', cache: 'off' });
    assert.deepEqual([moved.body.prompt.version, moved.body.prompt.label], [2, 'beta']);
    const rolledBack = await stack.operator.postJson('/v1/prompts/grounded-answer/labels/beta/rollback', { reason: 'worse answers' });
    assert.equal(rolledBack.status, 200, JSON.stringify(rolledBack.body));
    assert.deepEqual([rolledBack.body.kind, rolledBack.body.fromVersion, rolledBack.body.toVersion], ['rollback', 2, 1]);
    const next = await ask({ promptLabel: 'beta', cache: 'off' });
    assert.equal(next.body.prompt.version, 1);
    assert.doesNotMatch(lastSystemPrompt(), /BRIEFER/);
    const history = await stack.api.get('/v1/prompts/grounded-answer/labels/beta/history');
    assert.deepEqual(history.body.moves.map((m: any) => [m.kind, m.fromVersion, m.toVersion]), [['rollback', 2, 1], ['move', 1, 2], ['move', null, 1]]);
    const audit = await stack.operator.get('/v1/admin/audit?category=admin');
    const actions = audit.body.entries.map((e: any) => e.action);
    for (const action of ['prompt_version_created', 'prompt_label_moved', 'prompt_label_rolled_back']) assert.ok(actions.includes(action), `${action} in ${actions}`);
    const evidence = await stack.operator.get('/v1/deployments?target=grounded-answer:beta');
    assert.deepEqual(evidence.body.deployments.map((d: any) => [d.decision, d.fromVersion, d.toVersion]), [['rolled_back', '2', '1']], 'the rollback is deployment evidence');
  });

  it('refuses to roll back a label that never moved (409), and unknown versions or labels (404)', async () => {
    assert.equal((await stack.operator.postJson('/v1/prompts/grounded-answer/labels/canary/rollback', {})).status, 409);
    assert.equal((await stack.operator.send('PUT', '/v1/prompts/grounded-answer/labels/canary', { version: 99 })).status, 404);
    assert.equal((await stack.operator.postJson('/v1/prompts/grounded-answer/labels/nightly/rollback', {})).status, 404);
    assert.equal((await stack.api.get('/v1/prompts/grounded-answer/versions/99')).status, 404);
    assert.equal((await stack.api.get('/v1/prompts/grounded-answer/labels/canary/history')).body.moves.length, 1);
  });
});
