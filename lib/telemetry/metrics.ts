import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState } from '../models/circuit-breaker';

const BREAKER_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** OpenTelemetry GenAI semantic conventions: the recommended buckets of gen_ai.client.token.usage. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** …and of gen_ai.client.operation.duration and time_to_first_chunk, in seconds. */
const GEN_AI_SECONDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** HTTP server durations (OpenTelemetry's http.server.request.duration buckets). */
const HTTP_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const GEN_AI_LABELS = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_response_model'] as const;
type GenAiLabel = (typeof GEN_AI_LABELS)[number];

/** One model or embedding call as the GenAI conventions describe it. */
export interface GenAiCall {
  operation: 'chat' | 'embeddings';
  /** The conventions' well-known value where there is one: `openai`, `anthropic`; ours otherwise: `llama.cpp`, `onnxruntime`. */
  provider: string;
  requestModel: string;
  responseModel?: string;
  inputTokens: number;
  outputTokens?: number;
  seconds: number;
  /** Set when the call failed: the kind of failure (`timeout`, `retryable`, …), never a message. */
  errorType?: string;
  timeToFirstChunkSeconds?: number;
}

export interface MetricsOptions {
  /** Tenant ids and collection names as labels: an operator's choice, since every tenant and collection adds series. */
  tenantLabels: boolean;
}

/**
 * The platform's Prometheus metrics, one registry per process. Label values come from closed sets
 * (route templates, error codes, configured model names, stages), so cardinality stays bounded;
 * tenant ids appear only where an operator opted in.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly tenantLabels: boolean;
  private breakers?: () => Iterable<[string, BreakerState]>;
  private backlog?: () => Promise<Record<string, number>>;

  readonly httpDuration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  readonly tokenUsage: Histogram<GenAiLabel | 'gen_ai_token_type'>;
  readonly operationDuration: Histogram<GenAiLabel | 'error_type'>;
  readonly timeToFirstChunk: Histogram<GenAiLabel>;
  readonly costUsd: Counter<'gen_ai_provider_name' | 'gen_ai_request_model' | 'tenant'>;
  readonly stageDuration: Histogram<'stage' | 'mode'>;
  readonly ingestedPages: Counter<string>;
  readonly ingestedChunks: Counter<string>;
  readonly ingestedDocuments: Counter<'outcome'>;
  readonly breakerState: Gauge<'provider'>;
  readonly ingestBacklog: Gauge<'stage'>;
  readonly guardrailDecisions: Counter<'stage' | 'check' | 'outcome'>;
  readonly refusals: Counter<'code' | 'http_response_status_code'>;
  readonly answers: Counter<'found' | 'reason' | 'answered_by' | 'prompt_version' | 'repaired' | 'fell_back' | 'tenant' | 'collection'>;
  readonly retrievals: Counter<'empty' | 'mode' | 'tenant' | 'collection'>;
  readonly queryRunStarts: Counter<'mode' | 'start'>;
  readonly fallbacks: Counter<'provider'>;
  readonly citationValidationFailures: Counter<'provider'>;
  readonly cacheLookups: Counter<'cache' | 'outcome'>;

  constructor(options: MetricsOptions) {
    this.tenantLabels = options.tenantLabels;
    const registers = [this.registry];
    const tenant = options.tenantLabels ? (['tenant'] as const) : [];
    const scope = options.tenantLabels ? (['tenant', 'collection'] as const) : [];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'API request duration by route template and status',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      buckets: HTTP_SECONDS,
      registers,
    });
    this.tokenUsage = new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens per model call (gen_ai.client.token.usage), by token type',
      labelNames: [...GEN_AI_LABELS, 'gen_ai_token_type'],
      buckets: TOKEN_BUCKETS,
      registers,
    });
    this.operationDuration = new Histogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Duration of each model call (gen_ai.client.operation.duration); error_type set on failures',
      labelNames: [...GEN_AI_LABELS, 'error_type'],
      buckets: GEN_AI_SECONDS,
      registers,
    });
    this.timeToFirstChunk = new Histogram({
      name: 'gen_ai_client_operation_time_to_first_chunk_seconds',
      help: 'Time to the first streamed chunk of a model call (gen_ai.client.operation.time_to_first_chunk)',
      labelNames: [...GEN_AI_LABELS],
      buckets: GEN_AI_SECONDS,
      registers,
    });
    this.costUsd = new Counter({ name: 'rag_model_cost_usd_total', help: 'Spend on model calls in USD, at the configured prices', labelNames: ['gen_ai_provider_name', 'gen_ai_request_model', ...tenant], registers });
    this.stageDuration = new Histogram({
      name: 'rag_query_stage_duration_seconds',
      help: 'Per-stage latency of queries: embed, search, rerank, generate, and orchestration (the rest of the run)',
      labelNames: ['stage', 'mode'],
      buckets: HTTP_SECONDS,
      registers,
    });
    this.ingestedPages = new Counter({ name: 'rag_ingest_pages_total', help: 'Pages parsed by ingestion (PDF pages; other formats count as one)', registers });
    this.ingestedChunks = new Counter({ name: 'rag_ingest_chunks_total', help: 'Chunks embedded by ingestion', registers });
    this.ingestedDocuments = new Counter({ name: 'rag_ingest_documents_total', help: 'Ingestion runs finished, by outcome', labelNames: ['outcome'], registers });
    // prom-client calls collect() with the metric as `this`; the sources are read through these closures.
    const breakers = () => this.breakers?.() ?? [];
    const backlog = () => this.backlog?.().catch(() => null) ?? Promise.resolve(null);
    this.breakerState = new Gauge({
      name: 'rag_circuit_breaker_state',
      help: 'Circuit breaker per chat provider: 0 closed, 1 half-open, 2 open',
      labelNames: ['provider'],
      registers,
      collect() {
        for (const [provider, state] of breakers()) this.set({ provider }, BREAKER_VALUES[state]);
      },
    });
    this.ingestBacklog = new Gauge({
      name: 'rag_ingest_backlog_documents',
      help: 'Document versions not yet ready or failed, by stage: the ingestion queue',
      labelNames: ['stage'],
      registers,
      async collect() {
        const counts = await backlog();
        if (!counts) return;
        this.reset();
        for (const [stage, count] of Object.entries(counts)) this.set({ stage }, count);
      },
    });
    this.guardrailDecisions = new Counter({ name: 'rag_guardrail_decisions_total', help: 'Guardrail decisions by stage, check and outcome', labelNames: ['stage', 'check', 'outcome'], registers });
    this.refusals = new Counter({
      name: 'rag_api_refusals_total',
      help: 'Requests refused with a machine-readable code (rate limits, budgets, bad input, outages)',
      labelNames: ['code', 'http_response_status_code'],
      registers,
    });
    this.answers = new Counter({
      name: 'rag_answers_total',
      help: 'Answers by found, the not-found reason, who answered, the prompt version, whether a reply needed a validation repair and whether a candidate was passed over',
      labelNames: ['found', 'reason', 'answered_by', 'prompt_version', 'repaired', 'fell_back', ...scope],
      registers,
    });
    this.retrievals = new Counter({
      name: 'rag_retrievals_total',
      help: 'Queries by whether retrieval found any candidate (empty="true": nothing to answer from), for both modes',
      labelNames: ['empty', 'mode', ...scope],
      registers,
    });
    this.queryRunStarts = new Counter({
      name: 'rag_query_runs_started_total',
      help: 'Query workflow runs started, by how their first workflow task reached a worker: start="eager" (in the start response) or "queued" (through the task queue)',
      labelNames: ['mode', 'start'],
      registers,
    });
    this.fallbacks = new Counter({ name: 'rag_answer_fallbacks_total', help: 'Answer candidates passed over for the next one, by the candidate that failed', labelNames: ['provider'], registers });
    this.citationValidationFailures = new Counter({
      name: 'rag_citation_validation_failures_total',
      help: 'Model replies rejected by validation (schema or citations that do not quote the sources)',
      labelNames: ['provider'],
      registers,
    });
    this.cacheLookups = new Counter({
      name: 'rag_cache_lookups_total',
      help: 'Cache lookups: answers by question (exact, semantic, miss, off) and embeddings by text (hit, miss); error: the store did not answer and the lookup counted as a miss',
      labelNames: ['cache', 'outcome'],
      registers,
    });
  }

  /** One model call: duration always, tokens when it succeeded. */
  recordGenAiCall(call: GenAiCall): void {
    const labels = {
      gen_ai_operation_name: call.operation,
      gen_ai_provider_name: call.provider,
      gen_ai_request_model: call.requestModel,
      gen_ai_response_model: call.responseModel ?? call.requestModel,
    };
    this.operationDuration.observe({ ...labels, error_type: call.errorType ?? '' }, call.seconds);
    if (call.errorType) return;
    this.tokenUsage.observe({ ...labels, gen_ai_token_type: 'input' }, call.inputTokens);
    if (call.outputTokens !== undefined) this.tokenUsage.observe({ ...labels, gen_ai_token_type: 'output' }, call.outputTokens);
    if (call.timeToFirstChunkSeconds !== undefined) this.timeToFirstChunk.observe(labels, call.timeToFirstChunkSeconds);
  }

  /** The tenant label's value, or nothing when tenant labels are off. */
  tenant(tenantId: string): { tenant?: string } {
    return this.tenantLabels ? { tenant: tenantId } : {};
  }

  /** Tenant and collection labels, or nothing when tenant labels are off. */
  scope(tenantId: string, collection: string): { tenant?: string; collection?: string } {
    return this.tenantLabels ? { tenant: tenantId, collection } : {};
  }

  /** Breaker states are read on scrape, from the process that holds the breakers. */
  watchBreakers(states: () => Iterable<[string, BreakerState]>): void {
    this.breakers = states;
  }

  /** The ingestion backlog is counted on scrape (one indexed query), by the process that serves the API. */
  watchBacklog(count: () => Promise<Record<string, number>>): void {
    this.backlog = count;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
