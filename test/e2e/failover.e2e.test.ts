import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { apiClient, ingestPolicies, startStack, streamQuery, type Stack } from '../helpers/stack';

const BREAKER_COOLDOWN_MS = 2000;

/**
 * Failover through HTTP: two OpenAI-compatible candidates, each a real loopback server that
 * answers like a good model (quoting its first source) unless told to misbehave.
 */
describe('model failover end to end', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  let primary: FakeOpenAiServer;
  let secondary: FakeOpenAiServer;
  const question = 'How many days do I have to send back something I bought?';
  // Every case must reach the providers: the same question is asked afresh each time (a cached answer would skip them).
  const ask = (extra: Record<string, unknown> = {}) => api.postJson('/v1/query', { collection: 'policies', question, topK: 3, cache: 'off', ...extra });
  const requestsTo = (server: FakeOpenAiServer, action: () => Promise<unknown>) => async () => {
    const before = server.requests.length;
    await action();
    return server.requests.length - before;
  };

  before(async () => {
    primary = await new FakeOpenAiServer(groundedReply).start();
    secondary = await new FakeOpenAiServer(groundedReply).start();
    const model = (name: string, server: FakeOpenAiServer) => ({
      name,
      kind: 'openai',
      model: `${name}-model`,
      baseUrl: server.url,
      apiKeyEnv: 'FAKE_PROVIDER_KEY',
      contextTokens: 16_000,
      costPerMillionInputUsd: 1,
      costPerMillionOutputUsd: 4,
      timeoutMs: 800,
    });
    stack = await startStack({
      CHAT_MODELS: JSON.stringify([model('primary', primary), model('secondary', secondary)]),
      CHAT_RETRY_INITIAL_MS: '50',
      BREAKER_FAILURE_THRESHOLD: '3',
      BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
    });
    api = stack.api;
    // Raw deltas: answer masking holds streamed text back to sentence ends, and these tests watch
    // exactly when text starts to flow (masking has its own tests).
    assert.equal((await api.send('PATCH', '/v1/admin/tenants/default', { settings: { guardrails: { pii: { answer: 'off' } } } })).status, 200);
    await ingestPolicies(api);
  });
  after(async () => {
    await stack?.close();
    await primary?.stop();
    await secondary?.stop();
  });

  it('answers from the first candidate, with a validated citation and its tokens and cost', async () => {
    const response = await ask();
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(response.body.model, { provider: 'primary', model: 'primary-model' });
    assert.equal(response.body.found, true);
    assert.match(response.body.citations[0].quote, /thirty days/);
    assert.deepEqual(response.body.usage.calls.map((c: any) => c.outcome), ['valid']);
    assert.equal(response.body.usage.inputTokens, 12);
    assert.equal(response.body.usage.costUsd, (12 * 1 + 3 * 4) / 1e6);
    const sent = primary.requests.at(-1)?.body;
    assert.equal(sent.messages[0].role, 'system');
    assert.match(sent.messages[1].content, /Question: How many days/);
  });

  it('waits out a 429 for its Retry-After and retries 500s and malformed replies on the same candidate', async () => {
    primary.next({ status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': '1' } }, { status: 500, body: { error: { message: 'oops' } } });
    const started = performance.now();
    const response = await ask();
    assert.ok(performance.now() - started >= 1000, 'Retry-After was honoured');
    assert.equal(response.body.model.provider, 'primary');
    assert.deepEqual(response.body.usage.calls.map((c: any) => c.outcome), ['failed', 'failed', 'valid']);
    assert.equal(response.body.usage.calls[1].error, 'primary: retryable (HTTP 500)', 'the kind and status; the provider\'s text stays in the worker log');
    assert.ok(!JSON.stringify(response.body).includes('oops'));

    primary.next({ malformed: true });
    const malformed = await ask();
    assert.equal(malformed.body.model.provider, 'primary');
    assert.deepEqual(malformed.body.usage.calls.map((c: any) => c.outcome), ['failed', 'valid']);
  });

  it('never retries a 400, and moves a context-window error to the next candidate at once', async () => {
    for (const behaviour of [
      { status: 400, body: { error: { message: 'unknown parameter' } } },
      { status: 400, body: { error: { code: 'context_length_exceeded', message: "This model's maximum context length is 4096 tokens" } } },
    ]) {
      primary.next(behaviour);
      let response: any;
      const primaryRequests = await requestsTo(primary, async () => (response = await ask()))();
      assert.equal(primaryRequests, 1, 'one request, no retry');
      assert.equal(response.body.model.provider, 'secondary', JSON.stringify(response.body));
      assert.match(response.body.fallbacks[0], /^primary: (rejected|context_window): HTTP 400$/);
    }
  });

  it('gives invalid output one repair, then moves on', async () => {
    const bad = JSON.stringify({ found: true, citations: [{ source: 1, quote: 'returns are free forever, no questions asked' }], answer: 'Forever.' });
    primary.next({ reply: bad }, { reply: bad });
    const response = await ask();
    assert.equal(response.body.model.provider, 'secondary');
    const repair = primary.requests.at(-1)?.body.messages;
    assert.equal(repair.at(-2).content, bad, 'the rejected reply is shown back');
    assert.match(repair.at(-1).content, /quote does not occur in source 1/);
    assert.deepEqual(response.body.usage.calls.map((c: any) => `${c.provider}:${c.outcome}`), ['primary:invalid_output', 'primary:invalid_output', 'secondary:valid']);
  });

  it('falls back past a hanging provider, opens its breaker, skips it while open and closes it after a good probe', async () => {
    primary.next({ hang: true }, { hang: true }, { hang: true });
    const timedOut = await ask();
    assert.equal(timedOut.body.model.provider, 'secondary');
    assert.deepEqual(timedOut.body.usage.calls.filter((c: any) => c.provider === 'primary').map((c: any) => c.outcome), ['failed', 'failed', 'failed']);

    const skipped = await requestsTo(primary, async () => {
      const response = await ask();
      assert.equal(response.body.model.provider, 'secondary');
      assert.equal(response.body.usage.calls[0].outcome, 'skipped_circuit_open');
    })();
    assert.equal(skipped, 0, 'an open breaker sends nothing');

    await new Promise((resolve) => setTimeout(resolve, BREAKER_COOLDOWN_MS + 100));
    const probe = await ask();
    assert.equal(probe.body.model.provider, 'primary', 'the half-open probe succeeded');
    assert.equal((await ask()).body.model.provider, 'primary', 'closed again');
  });

  it('streams a repair after an invalid streamed reply: reset, then the repaired text, which is the answer', async () => {
    const bad = JSON.stringify({ found: true, citations: [{ source: 1, quote: 'returns are free forever, no questions asked' }], answer: 'Returns are free forever.' });
    primary.next({ reply: bad });
    const streamed = await streamQuery(stack, { collection: 'policies', question, topK: 3, cache: 'off' });
    const names = streamed.events.map((e) => e.event);
    const final = streamed.events.at(-1);
    assert.equal(final?.event, 'answer', names.join(','));
    assert.deepEqual(final?.data.model, { provider: 'primary', model: 'primary-model' }, 'the repair answered');
    const reset = names.indexOf('reset');
    assert.ok(reset > 0 && names.slice(0, reset).includes('delta'), `the invalid reply streamed, then was withdrawn: ${names.join(',')}`);
    const after = streamed.events.slice(reset + 1).filter((e) => e.event === 'delta').map((e) => e.data.text).join('');
    assert.ok(after.length > 0, 'the repair streams too (its events used to be dropped)');
    assert.equal(after, final?.data.answer);
  });

  it('streams from the next candidate when the first fails before its first token', async () => {
    primary.next({ status: 400, body: { error: { message: 'no streaming for you' } } });
    const streamed = await streamQuery(stack, { collection: 'policies', question, topK: 3, cache: 'off' });
    const final = streamed.events.at(-1);
    assert.equal(final?.event, 'answer');
    assert.equal(final?.data.model.provider, 'secondary');
    assert.ok(secondary.requests.at(-1)?.body.stream, 'the secondary was asked to stream');
    const text = streamed.events.filter((e) => e.event === 'delta').map((e) => e.data.text).join('');
    assert.equal(text, final?.data.answer);
  });

  it('does not fall back once text has streamed: the stream ends with an error', async () => {
    primary.next({ breakStreamBeforeEnd: 2 });
    const secondaryRequests = await requestsTo(secondary, async () => {
      const streamed = await streamQuery(stack, { collection: 'policies', question, topK: 3, cache: 'off' });
      const names = streamed.events.map((e) => e.event);
      assert.ok(names.includes('delta'), names.join(','));
      assert.equal(streamed.events.at(-1)?.event, 'error');
      assert.equal(streamed.events.at(-1)?.data.error.code, 'stream_broken');
    })();
    assert.equal(secondaryRequests, 0);
  });

  it('schedules model calls with a heartbeat timeout (a dead worker fails over in seconds), and ingestion to wait out outages for hours', async () => {
    const scheduled = async (workflowId: string, client = stack.env.client) =>
      (await client.workflow.getHandle(workflowId).fetchHistory()).events?.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [])) ?? [];
    const seconds = (d: { seconds?: unknown } | null | undefined) => Number(d?.seconds ?? 0);
    const answer = await ask();
    const generate = (await scheduled(answer.body.workflowId, stack.queries)).find((a) => a.activityType?.name === 'generateAnswer');
    assert.equal(seconds(generate?.heartbeatTimeout), 15);
    const run = (await api.get('/v1/documents/refunds')).body.versions[0].workflowId;
    const parse = (await scheduled(run)).find((a) => a.activityType?.name === 'parseDocument');
    assert.ok(parse, 'the ingestion run parsed');
    assert.equal(seconds(parse?.scheduleToCloseTimeout), 12 * 3600, 'an outage is waited out for up to 12 hours');
    assert.equal(parse?.retryPolicy?.maximumAttempts ?? 0, 0, 'no attempt count cuts that short');
  });
});
