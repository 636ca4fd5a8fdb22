import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { normalise } from '../../lib/answer/model-answer';
import { loadConfig } from '../../lib/config';
import { POLICIES } from '../helpers/fixtures';
import { apiClient, ingestPolicies, startStack, type Stack } from '../helpers/stack';

const modelPath = loadConfig({ ...process.env, LOCAL_CHAT_MODEL: 'smollm2' }).chatModels[0]?.modelPath ?? '';
const skip = existsSync(modelPath) ? false : `the local chat model is not installed at ${modelPath} (scripts/setup.sh installs it unless SKIP_LOCAL_CHAT_MODEL=1)`;

/** The local GGUF model as the first candidate, through the workflow, on this machine's CPU. */
describe('answers with the local chat model first (LOCAL_CHAT_MODEL=smollm2)', { skip }, () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  before(async () => {
    stack = await startStack({ LOCAL_CHAT_MODEL: 'smollm2' });
    api = stack.api;
    await ingestPolicies(api);
  });
  after(() => stack?.close());

  it('calls the local model, accounts its tokens, and returns only a validated or extractive answer', async () => {
    const response = await api.postJson('/v1/query', { collection: 'policies', question: 'How often are passwords rotated?', topK: 2 });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const { usage, model, citations, found } = response.body;
    const local = usage.calls.filter((call: any) => call.provider === 'local-smollm2');
    assert.ok(local.length >= 1 && local.length <= 2, 'one answer and at most one repair');
    assert.ok(local.every((call: any) => call.inputTokens > 50 && call.outputTokens > 0 && call.latencyMs > 0), JSON.stringify(local));
    assert.equal(usage.inputTokens, local.reduce((sum: number, call: any) => sum + call.inputTokens, 0));
    // A 135M model often fails validation; then the extractive answerer must have taken over.
    assert.ok(['local-smollm2', 'extractive'].includes(model.provider), JSON.stringify(model));
    if (model.provider === 'extractive') assert.equal(response.body.fallbacks.length, 2, 'both local attempts were rejected, and said why');
    const texts = Object.values(POLICIES).map((policy) => normalise(policy.text));
    if (found) for (const citation of citations) assert.ok(texts.some((text) => text.includes(normalise(citation.quote))), citation.quote);
  });
});
