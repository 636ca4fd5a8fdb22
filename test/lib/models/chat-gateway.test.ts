import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatGateway, GatewayCallFailed } from '../../../lib/models/chat-gateway';
import { OpenAiChatProvider } from '../../../lib/models/openai-chat';
import { chatModelConfig } from '../../../lib/models/router';
import { FakeOpenAiServer } from '../../helpers/fake-openai-server';

describe('ChatGateway against a real misbehaving HTTP server', () => {
  let server: FakeOpenAiServer;
  let now = 0;
  const waits: number[] = [];
  // Jitter at its top (random → 1): the full backoff, so waits can be named exactly.
  const options = { sleep: async (ms: number) => void waits.push(ms), random: () => 0.999999 };
  const request = { messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 50 };
  let gateway: ChatGateway;

  before(async () => {
    server = await new FakeOpenAiServer().start();
    const config = chatModelConfig.parse({ name: 'fake', kind: 'openai', model: 'm', baseUrl: server.url, contextTokens: 8000, costPerMillionInputUsd: 1, costPerMillionOutputUsd: 2, timeoutMs: 500 });
    const provider = new OpenAiChatProvider({ name: 'fake', model: 'm', baseUrl: server.url, apiKey: 'k', timeoutMs: 500 });
    // The breakers read this clock, so the cooldown passes without waiting.
    gateway = new ChatGateway(new Map([['fake', { config, provider }]]), { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 5000 }, { failureThreshold: 3, cooldownMs: 10_000 }, () => now);
  });
  after(() => server.stop());

  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => assert.fail('expected a failure'), (e: unknown) => e);
    assert.ok(error instanceof GatewayCallFailed);
    return error;
  };

  it('retries 429 after the Retry-After it was given, 5xx with backoff, and accounts every attempt', async () => {
    waits.length = 0;
    server.next({ status: 429, body: {}, headers: { 'retry-after': '2' } }, { status: 503, body: {} });
    const { result, calls } = await gateway.call('fake', request, options);
    assert.equal(result.text, 'ok');
    assert.deepEqual(waits, [2000, 200], 'Retry-After 2 s beats the 100 ms backoff; then 200 ms');
    assert.deepEqual(calls.map((call) => call.outcome), ['failed', 'failed', 'valid']);
    assert.equal(calls[2]?.costUsd, (12 * 1 + 3 * 2) / 1e6);
  });

  it('never retries a plain 400, and gives up a Retry-After longer than allowed', async () => {
    const before = server.requests.length;
    server.next({ status: 400, body: { error: { message: 'bad' } } });
    const rejected = await failure(gateway.call('fake', request, options));
    assert.equal(rejected.error.kind, 'rejected');
    assert.equal(server.requests.length - before, 1);

    server.next({ status: 429, body: {}, headers: { 'retry-after': '60' } });
    const tooLong = await failure(gateway.call('fake', request, options));
    assert.equal(tooLong.error.retryAfterMs, 60_000);
    assert.equal(server.requests.length - before, 2);
  });

  it('hands context-window errors back at once, for the router to move on', async () => {
    server.next({ status: 400, body: { error: { code: 'context_length_exceeded', message: 'maximum context length is 8192 tokens' } } });
    assert.equal((await failure(gateway.call('fake', request, options))).error.kind, 'context_window');
  });

  it('does not retry a stream that broke after text reached the caller', async () => {
    const before = server.requests.length;
    server.next({ breakStreamBeforeEnd: 0 });
    const seen: string[] = [];
    const broken = await failure(gateway.call('fake', { ...request, onText: (delta) => seen.push(delta) }, options));
    assert.equal(broken.textStarted, true);
    assert.equal(server.requests.length - before, 1);
    assert.deepEqual(seen, ['ok']);
  });

  it('opens the breaker after repeated failures, skips calls while open, and closes after a good probe', async () => {
    await gateway.call('fake', request, options); // a success resets the failure count
    server.next(...Array.from({ length: 3 }, () => ({ status: 500, body: {} })));
    const exhausted = await failure(gateway.call('fake', request, options));
    assert.deepEqual(exhausted.calls.map((call) => call.outcome), ['failed', 'failed', 'failed']);
    assert.equal(gateway.breakerState('fake'), 'open');
    const before = server.requests.length;
    const skipped = await failure(gateway.call('fake', request, options));
    assert.equal(skipped.error.kind, 'unavailable');
    assert.deepEqual(skipped.calls.map((call) => call.outcome), ['skipped_circuit_open']);
    assert.equal(server.requests.length, before, 'no request while open');
    now += 10_000;
    assert.equal(gateway.breakerState('fake'), 'half-open');
    assert.equal((await gateway.call('fake', request, options)).result.text, 'ok');
    assert.equal(gateway.breakerState('fake'), 'closed');
  });

  it('counts aborted calls against nobody: three disconnects leave a healthy provider\'s breaker closed', async () => {
    await gateway.call('fake', request, options);
    const before = server.requests.length;
    for (let i = 0; i < 3; i++) {
      server.next({ hang: true });
      const abort = new AbortController();
      setTimeout(() => abort.abort(new Error('client went away')), 30);
      const aborted = await failure(gateway.call('fake', { ...request, signal: abort.signal }, options));
      assert.equal(aborted.error.kind, 'aborted');
    }
    assert.equal(server.requests.length - before, 3, 'an aborted call is not retried');
    assert.equal(gateway.breakerState('fake'), 'closed');
    assert.equal((await gateway.call('fake', request, options)).result.text, 'ok');
  });

  it('spreads retries with jitter, and keeps the provider\'s words out of what callers see', async () => {
    waits.length = 0;
    server.next({ status: 503, body: { error: { message: 'upstream 10.0.3.7:8443 overloaded' } } }, { status: 503, body: {} });
    const { calls } = await gateway.call('fake', request, { ...options, random: () => 0 });
    assert.deepEqual(waits, [50, 100], 'half the backoff at the bottom of the jitter');
    assert.deepEqual(calls.map((call) => call.error), ['fake: retryable (HTTP 503)', 'fake: retryable (HTTP 503)', undefined]);
    server.next({ status: 400, body: { error: { message: 'internal host llm-7.corp rejected it' } } });
    const rejected = await failure(gateway.call('fake', request, options));
    assert.equal(rejected.error.summary, 'fake: rejected (HTTP 400)');
    assert.ok(!JSON.stringify(rejected.calls).includes('llm-7.corp'));
  });
});
