import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveMetrics } from '../../lib/telemetry/metrics-server';
import { installTemporalRuntime } from '../../lib/telemetry/temporal-runtime';
import { FakeOpenAiServer, groundedReply } from '../helpers/fake-openai-server';
import { POLICIES } from '../helpers/fixtures';
import { freePort } from '../helpers/net';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus';
import { startStack, streamQuery, waitReady, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

const unavailable = startPrometheus.unavailable();
const OPS = resolve(__dirname, '../../ops');

/**
 * `/metrics` as an operator's Prometheus sees it: a real Prometheus scrapes the platform and the
 * Temporal SDK's exporter every second, and PromQL must find one upload and three answers, with
 * the token and cost sums the answers themselves report.
 */
describe('metrics scraped by Prometheus', { skip: unavailable || undefined }, () => {
  let stack: Stack;
  let model: FakeOpenAiServer;
  let prometheus: PrometheusServer;
  let metricsEndpoint: { url: string; close(): Promise<void> };
  const answers: { status: number; body: any }[] = [];
  /** Waits until Prometheus has scraped a value the test expects (scrapes are a second apart). */
  const eventually = (promql: string, expected: (value: number | null) => boolean) => waitFor(promql, () => prometheus.scalar(promql), expected, 30_000, 500);

  before(async () => {
    // The SDK's runtime is installed once per process, before any connection: first, then.
    const temporalMetricsPort = await freePort();
    installTemporalRuntime({ METRICS_HOST: '127.0.0.1', TEMPORAL_METRICS_PORT: temporalMetricsPort });
    model = await new FakeOpenAiServer(groundedReply).start();
    stack = await startStack({
      CHAT_MODELS: JSON.stringify([
        { name: 'primary', kind: 'openai', model: 'primary-model', baseUrl: model.url, apiKeyEnv: 'FAKE_PROVIDER_KEY', contextTokens: 16_000, costPerMillionInputUsd: 1, costPerMillionOutputUsd: 4 },
      ]),
    });
    metricsEndpoint = await serveMetrics(stack.platform.metrics, '127.0.0.1', 0);
    prometheus = await startPrometheus({ platform: [new URL(metricsEndpoint.url).host], 'temporal-sdk': [`127.0.0.1:${temporalMetricsPort}`] });

    const upload = await stack.api.postJson('/v1/collections/policies/documents', { text: POLICIES.refunds.text, mediaType: 'text/markdown', documentId: 'refunds' });
    assert.equal(upload.status, 202, JSON.stringify(upload.body));
    await waitReady(stack.api, 'refunds');
    for (const question of ['How long do I have to return an item?', 'When is my refund processed?']) {
      answers.push(await stack.api.postJson('/v1/query', { collection: 'policies', question, topK: 3 }));
    }
    const streamed = await streamQuery(stack.api, { collection: 'policies', question: 'Do sale items get a cash refund?', topK: 3 });
    answers.push({ status: streamed.status, body: streamed.events.find((event) => event.event === 'answer')?.data });
  });
  after(async () => {
    await prometheus?.stop();
    await metricsEndpoint?.close();
    await stack?.close();
    await model?.stop();
  });

  it('answered three questions through the model', () => {
    for (const answer of answers) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.found, true, JSON.stringify(answer.body));
      assert.equal(answer.body.model.provider, 'primary');
    }
  });

  it('counts the upload, its pages and chunks, and an empty backlog', async () => {
    await eventually('sum(http_server_request_duration_seconds_count{http_route="/v1/collections/:collection/documents", http_request_method="POST", http_response_status_code="202"})', (v) => v === 1);
    await eventually('sum(rag_ingest_documents_total{outcome="ready"})', (v) => v === 1);
    await eventually('sum(rag_ingest_pages_total)', (v) => v === 1);
    const document = (await stack.api.get('/v1/documents/refunds')).body;
    await eventually('sum(rag_ingest_chunks_total)', (v) => v === document.versions[0].chunkCount);
    await eventually('sum(rag_ingest_backlog_documents)', (v) => v === 0);
    await eventually('count(rag_ingest_backlog_documents)', (v) => v === 5);
    // Embedding the chunks and the three questions: one GenAI embeddings operation per call, tokens counted.
    await eventually('sum(gen_ai_client_token_usage_sum{gen_ai_operation_name="embeddings", gen_ai_provider_name="onnxruntime", gen_ai_token_type="input"})', (v) => v !== null && v > 0);
  });

  it('counts three queries, three answers found, and the tokens and cost the answers report', async () => {
    await eventually('sum(http_server_request_duration_seconds_count{http_route="/v1/query", http_response_status_code="200"})', (v) => v === 3);
    await eventually('sum(rag_answers_total{found="true", answered_by="primary", repaired="false", fell_back="false"})', (v) => v === 3);
    await eventually('sum(rag_retrievals_total{empty="false", mode="answer"})', (v) => v === 3);
    // The API and the workers share a process and connection here, as `npm start` runs them.
    await eventually('sum(rag_query_runs_started_total{mode="answer", start="eager"})', (v) => v === 3);
    await eventually('sum(rag_query_runs_started_total{start="queued"})', (v) => v === null);
    const inputTokens = answers.reduce((sum, answer) => sum + answer.body.usage.inputTokens, 0);
    const outputTokens = answers.reduce((sum, answer) => sum + answer.body.usage.outputTokens, 0);
    const cost = answers.reduce((sum, answer) => sum + answer.body.usage.costUsd, 0);
    assert.ok(inputTokens > 0 && outputTokens > 0);
    const chat = 'gen_ai_operation_name="chat", gen_ai_provider_name="openai", gen_ai_request_model="primary-model"';
    await eventually(`sum(gen_ai_client_token_usage_sum{${chat}, gen_ai_token_type="input"})`, (v) => v === inputTokens);
    await eventually(`sum(gen_ai_client_token_usage_sum{${chat}, gen_ai_token_type="output"})`, (v) => v === outputTokens);
    await eventually(`sum(gen_ai_client_token_usage_count{${chat}, gen_ai_token_type="input"})`, (v) => v === 3);
    await eventually(`sum(gen_ai_client_operation_duration_seconds_count{${chat}, error_type=""})`, (v) => v === 3);
    // Only the streamed answer has a first chunk.
    await eventually(`sum(gen_ai_client_operation_time_to_first_chunk_seconds_count{${chat}})`, (v) => v === 1);
    const spent = await eventually('sum(rag_model_cost_usd_total{gen_ai_request_model="primary-model"})', (v) => v !== null);
    assert.ok(Math.abs((spent as number) - cost) < 1e-12, `cost ${spent} vs ${cost}`);
    // Every answer timed per stage, with no tenant labels unless an operator opts in.
    for (const stage of ['embed', 'search', 'rerank', 'generate', 'orchestration']) {
      await eventually(`sum(rag_query_stage_duration_seconds_count{mode="answer", stage="${stage}"})`, (v) => v === 3);
    }
    assert.equal((await prometheus.query('rag_answers_total{tenant!=""}')).length, 0);
  });

  it('exports every metric the dashboards and alert rules read (a renamed metric would leave them blank)', async () => {
    const read = [
      ...readdirSync(join(OPS, 'grafana/dashboards')).map((name) => readFileSync(join(OPS, 'grafana/dashboards', name), 'utf8')),
      ...readdirSync(join(OPS, 'prometheus/rules')).map((name) => readFileSync(join(OPS, 'prometheus/rules', name), 'utf8')),
    ].join('\n');
    const names = new Set([...read.matchAll(/\b((?:rag|gen_ai|http_server|temporal)_[a-z_]+)/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, '')));
    const exported = stack.platform.metrics.registry.getMetricsAsArray() as unknown as { name: string; labelNames: string[] }[];
    const platform = new Set(exported.map((metric) => metric.name));
    for (const label of exported.flatMap((metric) => metric.labelNames)) names.delete(label);
    // The SDK's series appear as its workers report them: wait for the next scrapes rather than read one.
    const missingFrom = async () => {
      const temporal = new Set((await prometheus.query('count by (__name__) ({job="temporal-sdk"})')).map((series) => (series.metric.__name__ as string).replace(/_(bucket|sum|count)$/, '')));
      return [...names].filter((name) => !platform.has(name) && !temporal.has(name));
    };
    const missing = await waitFor('every metric read to be exported', missingFrom, (left) => left.length === 0, 30_000, 500).catch(() => missingFrom());
    assert.deepEqual(missing, []);
  });

  it('shows the breaker closed, refusals by code, and the Temporal workers\' own metrics', async () => {
    assert.equal((await stack.api.postJson('/v1/query', { collection: 'policies', question: '', topK: 3 })).status, 400);
    await eventually('sum(rag_api_refusals_total{code="invalid_request", http_response_status_code="400"})', (v) => v === 1);
    await eventually('rag_circuit_breaker_state{provider="primary"}', (v) => v === 0);
    await eventually('sum(rag_guardrail_decisions_total{stage="input", check="prompt_injection", outcome="pass"})', (v) => v === 3);
    // The SDK's exporter: workflow completions seen by the workers (ingestion and the three queries at least).
    await eventually('sum(temporal_workflow_completed{job="temporal-sdk"})', (v) => v !== null && v >= 4);
  });
});
