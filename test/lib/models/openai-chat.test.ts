import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAiChatProvider } from '../../../lib/models/openai-chat';
import { ProviderError, type ProviderErrorKind } from '../../../lib/models/provider-error';
import { FakeOpenAiServer } from '../../helpers/fake-openai-server';

describe('OpenAiChatProvider against a misbehaving OpenAI-compatible server', () => {
  let server: FakeOpenAiServer;
  let provider: OpenAiChatProvider;
  const ask = () => provider.chat({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 16 });
  const failsAs = (kind: ProviderErrorKind, extra: (e: ProviderError) => boolean = () => true) => (error: unknown) =>
    ProviderError.isInstance(error) && error.kind === kind && error.provider === 'fake' && extra(error);

  before(async () => {
    server = await new FakeOpenAiServer().start();
    provider = new OpenAiChatProvider({ name: 'fake', baseUrl: server.url, apiKey: 'test-key', model: 'fake-model', timeoutMs: 500 });
  });
  after(() => server.stop());

  it('returns the text with usage and latency, sending one well-formed request', async () => {
    server.next({ reply: 'Thirty days.' });
    const result = await ask();
    assert.deepEqual([result.text, result.provider, result.model, result.usage], ['Thirty days.', 'fake', 'fake-model', { inputTokens: 12, outputTokens: 3 }]);
    assert.ok(result.latencyMs >= 0);
    const last = server.requests.at(-1)!;
    assert.equal(last.path, '/v1/chat/completions');
    assert.deepEqual(last.body, { model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16, temperature: 0 });
  });

  it('classifies 429 as retryable and honours Retry-After', async () => {
    server.next({ status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': '7' } });
    await assert.rejects(ask(), failsAs('retryable', (e) => e.status === 429 && e.retryAfterMs === 7000));
  });

  it('classifies 5xx, 408 and 409 as retryable', async () => {
    for (const status of [500, 503, 408, 409]) {
      server.next({ status, body: { error: { message: 'boom' } } });
      await assert.rejects(ask(), failsAs('retryable', (e) => e.status === status), `status ${status}`);
    }
  });

  it('never treats an ordinary 4xx as retryable', async () => {
    for (const status of [400, 401, 403, 404, 422]) {
      server.next({ status, body: { error: { message: 'bad request' } } });
      await assert.rejects(ask(), failsAs('rejected', (e) => e.status === status), `status ${status}`);
    }
  });

  it('names context-window and content-policy errors so they can go to another model', async () => {
    server.next({ status: 400, body: { error: { code: 'context_length_exceeded', message: "This model's maximum context length is 4096 tokens" } } });
    await assert.rejects(ask(), failsAs('context_window'));
    server.next({ status: 400, body: { error: { code: 'content_policy_violation', message: 'rejected by the safety system' } } });
    await assert.rejects(ask(), failsAs('content_policy'));
  });

  it('treats a malformed body and a hang as transient', async () => {
    server.next({ malformed: true });
    await assert.rejects(ask(), failsAs('retryable'));
    server.next({ hang: true });
    const started = Date.now();
    await assert.rejects(ask(), failsAs('retryable'));
    assert.ok(Date.now() - started < 2000, 'the timeout ends a hung request');
  });

  it('decodes a streamed reply whose characters are split between network chunks', async () => {
    const reply = 'Zürich – 東京 ✓ naïve café 🚀';
    server.next({ splitCharacters: reply });
    const deltas: string[] = [];
    const result = await provider.chat({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 50, onText: (delta) => deltas.push(delta) });
    assert.equal(result.text, reply);
    assert.equal(deltas.join(''), reply);
    assert.ok(!result.text.includes('\ufffd'));
  });
});
