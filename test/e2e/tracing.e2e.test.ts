import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { POLICIES } from '../helpers/fixtures';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { startStack, streamQuery, waitReady, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

/**
 * One trace per request, exported over OTLP/HTTP to a receiver in this process: the caller's
 * traceparent is continued, and its trace links the HTTP span, the workflow, its activities and
 * the model call with the GenAI attributes.
 */
describe('tracing end to end', () => {
  let stack: Stack;
  let model: FakeOpenAiServer;
  let receiver: OtlpReceiver;
  const traceId = randomBytes(16).toString('hex');
  const callerSpan = randomBytes(8).toString('hex');
  let answer: { status: number; body: any; headers: Headers };

  /** The trace once the spans named have all arrived (spans are exported in batches). */
  const traceWith = async (id: string, names: string[]) => {
    await stack.platform.tracing.flush();
    return waitFor(`spans ${names.join(', ')} of trace ${id}`, async () => (await stack.platform.tracing.flush(), receiver.trace(id)), (spans) => names.every((name) => spans.some((s) => s.name === name)), 30_000, 250);
  };
  const parentOf = (spans: ReceivedSpan[], span: ReceivedSpan) => spans.find((s) => s.spanId === span.parentSpanId);
  const ancestors = (spans: ReceivedSpan[], span: ReceivedSpan) => {
    const chain: string[] = [];
    for (let at = parentOf(spans, span); at; at = parentOf(spans, at)) chain.push(at.name);
    return chain;
  };

  before(async () => {
    receiver = await new OtlpReceiver().start();
    model = await new FakeOpenAiServer(groundedReply).start();
    stack = await startStack({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'rag-test',
      CHAT_MODELS: JSON.stringify([
        { name: 'primary', kind: 'openai', model: 'primary-model', baseUrl: model.url, apiKeyEnv: 'FAKE_PROVIDER_KEY', contextTokens: 16_000, costPerMillionInputUsd: 1, costPerMillionOutputUsd: 4 },
      ]),
    });
    const upload = await stack.api.postJson('/v1/collections/policies/documents', { text: POLICIES.refunds.text, mediaType: 'text/markdown', documentId: 'refunds' });
    assert.equal(upload.status, 202, JSON.stringify(upload.body));
    await waitReady(stack.api, 'refunds');
    // cache: off, so the run embeds the question itself (the semantic lookup would embed it first, under the request, and the run's embedding would be a cache hit).
    answer = await postWithoutFetch(`${stack.baseUrl}/v1/query`, { authorization: `Bearer ${stack.apiKey}`, traceparent: `00-${traceId}-${callerSpan}-01` }, { collection: 'policies', question: 'How long do I have to return an item?', topK: 3, cache: 'off' });
  });
  after(async () => {
    await stack?.close();
    await model?.stop();
    await receiver?.stop();
  });

  it("continues the caller's trace: the same trace id in the answer and the returned traceparent, beside the workflow run", () => {
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.traceId, traceId);
    assert.match(answer.headers.get('traceparent') ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.match(answer.body.workflowId, /^query\/default\//);
    assert.match(answer.body.runId, /^[0-9a-f-]{36}$/);
  });

  it('links the HTTP span, the workflow, its activities and the model call in one trace', async () => {
    const spans = await traceWith(traceId, ['request', 'StartWorkflow:answerQueryWorkflow', 'RunWorkflow:answerQueryWorkflow', 'RunActivity:retrieveChunks', 'RunActivity:generateAnswer', 'chat primary-model']);
    const request = spans.find((s) => s.name === 'request') as ReceivedSpan;
    assert.equal(request.parentSpanId, callerSpan, 'the request span is a child of the caller');
    assert.equal(request.attributes['http.route'], '/v1/query');
    assert.equal(request.service, 'rag-test');
    // A tree: every span but the request's has its parent in the trace.
    for (const span of spans) if (span !== request) assert.ok(parentOf(spans, span), `${span.name} has its parent in the trace`);

    const chat = spans.find((s) => s.name === 'chat primary-model') as ReceivedSpan;
    assert.deepEqual(
      [chat.attributes['gen_ai.operation.name'], chat.attributes['gen_ai.provider.name'], chat.attributes['gen_ai.request.model'], chat.attributes['gen_ai.response.model']],
      ['chat', 'openai', 'primary-model', 'primary-model'],
    );
    assert.equal(chat.attributes['gen_ai.usage.input_tokens'], answer.body.usage.inputTokens);
    assert.equal(chat.attributes['gen_ai.usage.output_tokens'], answer.body.usage.outputTokens);
    assert.deepEqual(ancestors(spans, chat).slice(0, 1), ['RunActivity:generateAnswer']);
    assert.ok(ancestors(spans, chat).includes('RunWorkflow:answerQueryWorkflow') && ancestors(spans, chat).includes('request'));
    // The provider's HTTP call (undici) is the model call's child.
    assert.ok(spans.some((s) => parentOf(spans, s) === chat && s.attributes['http.request.method'] === 'POST'), 'an HTTP client span under the model call');

    const embedding = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'embeddings');
    assert.ok(embedding && embedding.attributes['gen_ai.provider.name'] === 'onnxruntime' && Number(embedding.attributes['gen_ai.usage.input_tokens']) > 0);
    assert.ok(ancestors(spans, embedding).includes('RunActivity:retrieveChunks'));
    // Index and database calls have spans of their own.
    assert.ok(spans.some((s) => s.name === 'index.search' && ancestors(spans, s).includes('RunActivity:retrieveChunks')));
    assert.ok(spans.some((s) => s.name === 'db.query' && typeof s.attributes['db.query.text'] === 'string'));
  });

  it('writes the trace id on the ledger rows of the calls the query made', async () => {
    const rows = await stack.platform.db.query<{ trace_id: string; operation: string }>('select trace_id, operation from usage_events where workflow_id = $1', [answer.body.workflowId]);
    assert.ok(rows.some((row) => row.operation === 'chat') && rows.some((row) => row.operation === 'embeddings'));
    assert.deepEqual([...new Set(rows.map((row) => row.trace_id))], [traceId]);
  });

  it('starts a new trace for a caller without traceparent, and traces uploads into their ingestion workflow', async () => {
    const streamed = await streamQuery(stack.api, { collection: 'policies', question: 'When is my refund processed?', topK: 3 });
    const final = streamed.events.find((event) => event.event === 'answer')?.data;
    assert.match(final.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(final.traceId, traceId);
    await traceWith(final.traceId, ['request', 'RunWorkflow:answerQueryWorkflow', 'chat primary-model']);

    const upload = await fetch(`${stack.baseUrl}/v1/collections/policies/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
      body: JSON.stringify({ text: POLICIES.travel.text, mediaType: 'text/markdown', documentId: 'travel' }),
    });
    assert.equal(upload.status, 202);
    const uploadTrace = /^00-([0-9a-f]{32})-/.exec(upload.headers.get('traceparent') ?? '')?.[1] as string;
    await waitReady(stack.api, 'travel');
    // The workflow's own span is exported when the run completes, just after the version is ready.
    const spans = await traceWith(uploadTrace, ['request', 'StartWorkflow:ingestDocumentWorkflow', 'RunWorkflow:ingestDocumentWorkflow', 'RunActivity:embedChunks', 'RunActivity:indexChunks']);
    const embedding = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'embeddings') as ReceivedSpan;
    assert.ok(ancestors(spans, embedding).includes('RunActivity:embedChunks'));
  });
});

/**
 * The caller's request through node:http: this process's fetch is undici, which tracing
 * instruments, and its client span would replace the test's traceparent with one of its own.
 */
function postWithoutFetch(url: string, headers: Record<string, string>, json: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          headers: new Headers(Object.entries(response.headers).map(([name, value]) => [name, String(value)])),
        }),
      );
    });
    sent.on('error', reject);
    sent.end(JSON.stringify(json));
  });
}
