import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { chatModelConfig, type ChatModelConfig } from './models/router';
import localModels from './models/local-models.json';

/** The local GGUF chat models setup can install, with where their files come from. */
export const LOCAL_CHAT_MODELS = localModels.models;
export type LocalChatModelId = keyof typeof LOCAL_CHAT_MODELS;

/** Where set-up puts what is slow to fetch or build (Temporal CLI, model files); never inside the repo. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.RAG_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rag-platform');
}

/** The namespace of query runs unless TEMPORAL_QUERY_NAMESPACE says otherwise (scripts/start.sh creates it). */
export const QUERY_NAMESPACE = 'rag-queries';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z
  .object({
    HTTP_HOST: z.string().default('127.0.0.1'),
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    DATA_DIR: z.string().default('.data'),

    TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
    /** Durable work: ingestion, re-index, deletion (long retention). */
    TEMPORAL_NAMESPACE: z.string().default('default'),
    /** Query and answer runs: many, short, kept briefly, out of the way of the durable runs. */
    TEMPORAL_QUERY_NAMESPACE: z.string().default(QUERY_NAMESPACE),
    TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),
    /**
     * Query runs start eagerly (the start response carries their first workflow task, no task-queue
     * round trip) where the API and the query worker share one connection, as in `npm start`.
     */
    TEMPORAL_EAGER_START: z.enum(['on', 'off']).default('on'),

    /** Postgres in production; unset means the embedded PGlite database under DATA_DIR. */
    DATABASE_URL: z.string().url().optional(),
    VECTOR_STORE: z.enum(['embedded', 'qdrant']).default('embedded'),
    QDRANT_URL: z.string().url().optional(),
    QDRANT_API_KEY: z.string().optional(),

    EMBEDDING_PROVIDER: z.enum(['local', 'openai']).default('local'),
    LOCAL_EMBEDDING_MODEL_DIR: z.string().optional(),
    EMBEDDING_THREADS: int(2),
    OPENAI_BASE_URL: z.string().url().default('https://api.openai.com/v1'),
    OPENAI_API_KEY: z.string().optional(),
    OPENAI_EMBEDDING_MODEL: z.string().default('text-embedding-3-small'),
    OPENAI_EMBEDDING_DIMENSIONS: int(1536),
    /** The embedding model's price, for the usage ledger and cost ceilings (text-embedding-3-small lists 0.02). */
    OPENAI_EMBEDDING_COST_PER_MILLION_USD: z.coerce.number().min(0).max(1000).default(0),

    /** JSON array of chat models (lib/models/router.ts), tried in routing order before the extractive answerer. */
    CHAT_MODELS: z.string().optional(),
    /**
     * A local GGUF chat model to route answers to first when CHAT_MODELS is unset (see
     * lib/models/local-models.json): `qwen2.5-1.5b` (Qwen2.5-Coder-1.5B-Instruct, the stronger),
     * `qwen2.5-0.5b`, `smollm2` (SmolLM2-135M). Off by default: on 2 cores a reply takes seconds
     * to tens of seconds (README, "Models for answers"). Setup fetches only the one named here.
     */
    LOCAL_CHAT_MODEL: z.enum(['off', ...(Object.keys(LOCAL_CHAT_MODELS) as [LocalChatModelId])]).default('off'),
    LOCAL_CHAT_THREADS: int(2),
    LOCAL_CHAT_MODEL_PATH: z.string().optional(),
    ROUTING_POLICY: z.enum(['configured', 'cheapest', 'fastest']).default('configured'),
    CHAT_MAX_ATTEMPTS: int(3),
    CHAT_RETRY_INITIAL_MS: int(500),
    CHAT_RETRY_MAX_DELAY_MS: int(10_000),
    BREAKER_FAILURE_THRESHOLD: int(3),
    BREAKER_COOLDOWN_MS: int(30_000),
    // The repo prompt file (prompts/grounded-answer/<this>.md) the "production" label starts at on a new database; then the registry decides.
    ANSWER_PROMPT_VERSION: z.string().default('v1'),

    RERANKER: z.enum(['local', 'http', 'none']).default('local'),
    RERANK_URL: z.string().url().optional(),
    RERANK_API_KEY: z.string().optional(),
    RERANK_MODEL: z.string().default('rerank-v3.5'),
    /** Hybrid candidates the reranker sees per question. */
    RERANK_CANDIDATES: int(10),
    /** Below this reranker score no chunk is relevant: the answer is "not found" without a model call. */
    RELEVANCE_FLOOR: z.coerce.number().min(0).max(1).default(0.62),

    MAX_UPLOAD_BYTES: int(50 * 1024 * 1024),
    CHUNK_SIZE_TOKENS: int(200),
    CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).default(30),
    EMBED_BATCH_SIZE: int(16),
    /** Worker threads that parse and chunk documents, off the event loop. */
    INGEST_THREADS: int(1),
    /** How soon a dead worker's activity is retried elsewhere; heartbeats arrive per batch. */
    ACTIVITY_HEARTBEAT_TIMEOUT_MS: int(30_000),

    /**
     * The gateway. `off` switches each part off for local demos and for measuring its overhead:
     * without auth every request acts for tenant `default` with every scope.
     */
    GATEWAY_AUTH: z.enum(['on', 'off']).default('on'),
    RATE_LIMITS: z.enum(['on', 'off']).default('on'),
    GUARDRAILS: z.enum(['on', 'off']).default('on'),
    /** Requests per minute per API key, unless the key or its tenant sets another. */
    RATE_LIMIT_PER_MINUTE: int(600),
    /** Failed authentications per client address and minute before it is answered 429 without a key lookup (0: no limit; per API process). */
    AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(30),
    /** Set: rate limits, token budgets and the caches live in Redis, shared by every API instance. */
    REDIS_URL: z.string().url().optional(),
    /**
     * Answers cached by tenant, collection content version, question and settings (a tenant or a
     * request can turn it off); semantic: a paraphrase within the similarity threshold is a hit too.
     */
    ANSWER_CACHE: z.enum(['semantic', 'exact', 'off']).default('semantic'),
    ANSWER_CACHE_TTL_SECONDS: int(24 * 3600),
    /** Answers kept in the embedded database (Redis bounds its size with its own eviction). */
    ANSWER_CACHE_MAX_ENTRIES: int(20_000),
    /** Cosine similarity of two questions' embeddings at which one's answer serves the other (measured: docs/benchmarks.md). */
    ANSWER_CACHE_SEMANTIC_THRESHOLD: z.coerce.number().min(0.5).max(1).default(0.85),
    /** Recent questions of one scope compared with a new one. */
    ANSWER_CACHE_SEMANTIC_CANDIDATES: int(200),
    /** Chunk and question vectors by model and text hash: unchanged text is not embedded again. */
    EMBEDDING_CACHE: z.enum(['on', 'off']).default('on'),
    EMBEDDING_CACHE_TTL_SECONDS: int(30 * 24 * 3600),
    EMBEDDING_CACHE_MAX_ENTRIES: int(1_000_000),
    /** A cache call slower than this is a miss. */
    CACHE_DEADLINE_MS: int(250),
    /** Registered (by hash) as an admin key of the `platform` tenant at start-up. At least 32 characters. */
    BOOTSTRAP_ADMIN_KEY: z.string().min(32).optional(),
    /** A request (body included) must arrive within this time: slow uploads are cut off with 408. */
    REQUEST_TIMEOUT_MS: int(120_000),

    /** Prometheus metrics (`GET /metrics`) on this port of METRICS_HOST; 0: not served. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    METRICS_HOST: z.string().default('127.0.0.1'),
    /** Tenant ids and collection names as metric labels (cost, answers, retrievals): each adds series, so an operator opts in. */
    METRICS_TENANT_LABELS: z.enum(['on', 'off']).default('off'),
    /** OTLP/HTTP collector for traces (`/v1/traces` is appended), e.g. http://127.0.0.1:4318; unset: tracing is off and costs nothing. */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
    OTEL_SERVICE_NAME: z.string().min(1).default('rag-platform'),
    /** Share of new traces recorded (a caller's sampled traceparent is always followed). */
    TRACING_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
    /** The Temporal SDK's own worker metrics (task latencies, slots, polls) in Prometheus format on this port; 0: off. */
    TEMPORAL_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),

    /** Encrypt every Temporal payload (AES-256-GCM): histories hold no question, chunk or answer text. */
    PAYLOAD_ENCRYPTION: z.enum(['on', 'off']).default('on'),
    /**
     * `id:base64,id:base64`, newest first: the first encrypts, all decrypt (rotation). API and workers
     * need the same keys. Unset: one key generated into DATA_DIR/payload-keys on first start.
     */
    PAYLOAD_KEYS: z.string().min(1).optional(),
    /** Browser origins allowed to call the codec server (/codec) with credentials: the Temporal UI's. */
    CODEC_CORS_ORIGINS: z.string().optional(),

    /** Start runs with the RagTenant/RagCollection/RagGeneration/RagStage search attributes (they must be registered). */
    TEMPORAL_SEARCH_ATTRIBUTES: z.enum(['on', 'off']).default('on'),
    /** Documents per re-index child workflow, and child workflows per run before continue-as-new. */
    REINDEX_BATCH_SIZE: int(8),
    REINDEX_BATCHES_PER_RUN: int(25),
    /** Re-index batches in flight at once; each runs on one embedding worker slot. */
    REINDEX_BATCHES_IN_FLIGHT: int(2),
    /** Earlier generations kept for rollback after a swap; older ones are dropped. */
    REINDEX_RETAIN_GENERATIONS: z.coerce.number().int().min(0).default(1),
    /** The gate's recall@k: how much worse than the live generation a new one may be. */
    REINDEX_GATE_K: int(5),
    REINDEX_RECALL_MARGIN: z.coerce.number().min(0).max(1).default(0.05),
  })
  .superRefine((env, ctx) => {
    if (env.VECTOR_STORE === 'qdrant' && !env.QDRANT_URL) {
      ctx.addIssue({ code: 'custom', path: ['QDRANT_URL'], message: 'required when VECTOR_STORE=qdrant' });
    }
    if (env.EMBEDDING_PROVIDER === 'openai' && !env.OPENAI_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['OPENAI_API_KEY'], message: 'required when EMBEDDING_PROVIDER=openai' });
    }
    if (env.RERANKER === 'http' && !env.RERANK_URL) {
      ctx.addIssue({ code: 'custom', path: ['RERANK_URL'], message: 'required when RERANKER=http' });
    }
    if (env.CHAT_MODELS !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(env.CHAT_MODELS);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['CHAT_MODELS'], message: 'must be a JSON array' });
        return;
      }
      const models = z.array(chatModelConfig).safeParse(parsed);
      if (!models.success) for (const issue of models.error.issues) ctx.addIssue({ ...issue, path: ['CHAT_MODELS', ...issue.path] } as never);
    }
    if (env.CHUNK_OVERLAP_TOKENS >= env.CHUNK_SIZE_TOKENS) {
      ctx.addIssue({ code: 'custom', path: ['CHUNK_OVERLAP_TOKENS'], message: 'must be smaller than CHUNK_SIZE_TOKENS' });
    }
  });

export type Config = z.infer<typeof envSchema> & { localEmbeddingModelDir: string; cacheDir: string; chatModels: ChatModelConfig[] };

/** A local GGUF model as scripts/setup.sh installs it (lib/models/local-models.json). */
function localChatModel(id: LocalChatModelId, modelPath: string): ChatModelConfig {
  const { name, model, contextTokens, maxOutputTokens, typicalLatencyMs } = LOCAL_CHAT_MODELS[id];
  return chatModelConfig.parse({ name, kind: 'local', model, modelPath, contextTokens, maxOutputTokens, typicalLatencyMs });
}

/** Parses the environment once at start-up; fails fast naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const cacheDir = cacheRoot(env);
  const local = parsed.data.LOCAL_CHAT_MODEL;
  const chatModels = parsed.data.CHAT_MODELS
    ? z.array(chatModelConfig).parse(JSON.parse(parsed.data.CHAT_MODELS))
    : local === 'off' ? [] : [localChatModel(local, parsed.data.LOCAL_CHAT_MODEL_PATH ?? join(cacheDir, 'models', LOCAL_CHAT_MODELS[local].file))];
  return {
    ...parsed.data,
    DATA_DIR: resolve(parsed.data.DATA_DIR),
    cacheDir,
    localEmbeddingModelDir: parsed.data.LOCAL_EMBEDDING_MODEL_DIR ?? join(cacheDir, 'models', 'all-MiniLM-L6-v2'),
    chatModels,
  };
}
