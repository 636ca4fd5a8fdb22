import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AnthropicChatProvider } from '../../../lib/models/anthropic-chat';
import { ProviderError } from '../../../lib/models/provider-error';
import { FakeOpenAiServer } from '../../helpers/fake-openai-server';

describe('AnthropicChatProvider against a real local server', () => {
  let server: FakeOpenAiServer;
  let provider: AnthropicChatProvider;
  before(async () => {
    server = await new FakeOpenAiServer(() => 'Thirty days.').start();
    provider = new AnthropicChatProvider({ name: 'claude', baseUrl: server.url.replace(/\/v1$/, ''), apiKey: 'secret', model: 'claude-x', timeoutMs: 1000 });
  });
  after(() => server.stop());

  it('speaks the Messages API: system apart, key header, text blocks and token usage', async () => {
    const deltas: string[] = [];
    const result = await provider.chat({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'How long?' }], maxTokens: 20, onText: (d) => deltas.push(d) });
    assert.equal(result.text, 'Thirty days.');
    assert.deepEqual(deltas, ['Thirty days.']);
    assert.deepEqual(result.usage, { inputTokens: 12, outputTokens: 3 });
    const sent = server.requests.at(-1);
    assert.equal(sent?.path, '/v1/messages');
    assert.deepEqual(sent?.body, { model: 'claude-x', max_tokens: 20, temperature: 0, system: 'Be brief.', messages: [{ role: 'user', content: 'How long?' }] });
  });

  it('classifies overload as retryable and a too-long prompt as a context-window error', async () => {
    const kindOf = async () => ((await provider.chat({ messages: [{ role: 'user', content: 'x' }], maxTokens: 5 }).catch((e: unknown) => e)) as ProviderError).kind;
    server.next({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    assert.equal(await kindOf(), 'retryable');
    server.next({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 250000 tokens > 200000 maximum' } } });
    assert.equal(await kindOf(), 'context_window');
  });
});
