import { join } from 'node:path';
import { Redis } from 'ioredis';
import { CachedEmbedder } from './cache/cached-embedder';
import type { CacheStore } from './cache/cache-store';
import { RedisCacheStore } from './cache/redis-cache-store';
import { SqlCacheStore } from './cache/sql-cache-store';
import type { Config } from './config';
import type { Embedder } from './models/embedder';
import { EmbedderRegistry } from './models/embedder-registry';
import { LocalOnnxEmbedder } from './models/local-onnx-embedder';
import { MeteredEmbedder } from './models/metered-embedder';
import { OpenAiEmbedder } from './models/openai-embedder';
import { AuditLog } from './stores/audit-log';
import { CpuPool } from './ingest/cpu-pool';
import { BlobStore } from './stores/blob-store';
import { CollectionStore } from './stores/collection-store';
import { EmbeddedVectorIndex } from './stores/embedded-index';
import { EvalSetStore } from './stores/eval-set-store';
import { GenerationStore } from './stores/generation-store';
import { ReindexRunStore } from './stores/reindex-run-store';
import { MetadataStore } from './stores/metadata-store';
import { migrate } from './stores/migrations';
import { TenantStore } from './stores/tenant-store';
import { UsageLedger } from './stores/usage-ledger';
import { AnswerLog } from './stores/answer-log';
import { PromptStore } from './stores/prompt-store';
import { ExperimentStore } from './stores/experiment-store';
import { PromptRegistry } from './prompts/prompt-registry';
import { ANSWER_PROMPT } from './prompts/prompt-ref';
import { QdrantVectorIndex } from './stores/qdrant-index';
import { openEmbeddedPostgres, openPostgres, type SqlDatabase } from './stores/sql';
import type { FilterableType, VectorIndex } from './stores/vector-index';
import { Metrics } from './telemetry/metrics';
import { payloadProtection, type PayloadProtection } from './temporal/data-converter';
import { traced } from './telemetry/traced';
import { startTracing, type Tracing } from './telemetry/tracing';

/** The stores and models a process works with, opened from configuration in one place. */
export interface Platform {
  config: Config;
  db: SqlDatabase;
  metadata: MetadataStore;
  collections: CollectionStore;
  generations: GenerationStore;
  reindexRuns: ReindexRunStore;
  evalSets: EvalSetStore;
  tenants: TenantStore;
  audit: AuditLog;
  blobs: BlobStore;
  /** Worker threads for parsing and chunking: they start on first use. */
  cpu: CpuPool;
  index: VectorIndex;
  /** The configured embedding model: new collections are embedded with it. */
  embedder: Embedder;
  /** Every embedding model this deployment can run, the configured one included. */
  embedders: EmbedderRegistry;
  /** This process's Prometheus metrics. */
  metrics: Metrics;
  /** Every model and embedding call: tokens, cost, latency, outcome. */
  usage: UsageLedger;
  /** Every answer served, and the feedback on it. */
  answers: AnswerLog;
  /** Prompt versions and labels, seeded from the repo's prompts/ on first start. */
  prompts: PromptRegistry;
  /** A/B/n experiments on answers. */
  experiments: ExperimentStore;
  /** OpenTelemetry for this process (off unless an OTLP endpoint is configured). */
  tracing: Tracing;
  /** Where cached answers and vectors live (Redis or the database); null when both caches are off. */
  cache: CacheStore | null;
  /** Temporal payload encryption: every client and worker of this process uses its data converter. */
  payloads: PayloadProtection;
  close(): Promise<void>;
}

function openAiEmbedder(config: Config): OpenAiEmbedder {
  return new OpenAiEmbedder({
    baseUrl: config.OPENAI_BASE_URL,
    apiKey: config.OPENAI_API_KEY as string,
    model: config.OPENAI_EMBEDDING_MODEL,
    dimensions: config.OPENAI_EMBEDDING_DIMENSIONS,
  });
}

export async function createEmbedder(config: Config): Promise<Embedder> {
  if (config.EMBEDDING_PROVIDER === 'openai') return openAiEmbedder(config);
  return LocalOnnxEmbedder.load(config.localEmbeddingModelDir, { threads: config.EMBEDDING_THREADS });
}

/**
 * The local model is always available; the OpenAI-compatible one when a key is configured. Each
 * is metered (GenAI metrics, usage ledger) and, with a cache store, asks the cache first.
 */
export async function createEmbedderRegistry(config: Config, metrics?: Metrics, cache?: CacheStore | null): Promise<EmbedderRegistry> {
  const measured = (embedder: Embedder, costPerMillionTokensUsd: number) => (metrics ? new MeteredEmbedder(embedder, metrics, costPerMillionTokensUsd) : embedder);
  const decorated = (embedder: Embedder, costPerMillionTokensUsd = 0) =>
    cache && config.EMBEDDING_CACHE === 'on'
      ? new CachedEmbedder(measured(embedder, costPerMillionTokensUsd), cache, { deadlineMs: config.CACHE_DEADLINE_MS, metrics })
      : measured(embedder, costPerMillionTokensUsd);
  const price = config.OPENAI_EMBEDDING_COST_PER_MILLION_USD;
  const primary = decorated(await createEmbedder(config), config.EMBEDDING_PROVIDER === 'openai' ? price : 0);
  const loaders = new Map<string, () => Promise<Embedder>>([
    [LocalOnnxEmbedder.MODEL_ID, async () => decorated(await LocalOnnxEmbedder.load(config.localEmbeddingModelDir, { threads: config.EMBEDDING_THREADS }))],
  ]);
  if (config.OPENAI_API_KEY) {
    const remote = decorated(openAiEmbedder(config), price);
    loaders.set(remote.modelId, async () => remote);
  }
  return new EmbedderRegistry(primary, loaders);
}

/**
 * Every space a generation lives in gets its payload indexes, and declared filterable keys theirs:
 * a start completes what an interrupted one left undone (Qdrant also has its version checked).
 */
async function prepareIndex(db: SqlDatabase, index: VectorIndex): Promise<void> {
  const spaces = await db.query<{ index_name: string; dimensions: number }>(
    `select distinct index_name, dimensions from collection_generations where index_name is not null and state in ('live', 'building', 'retained')`,
  );
  for (const space of spaces) await index.ensureSpace(space.index_name, { dimensions: space.dimensions });
  const declared = await db.query<{ index_name: string; filterable_keys: Record<string, FilterableType> }>(
    `select distinct g.index_name, c.filterable_keys from collections c join collection_generations g on g.tenant_id = c.tenant_id and g.collection = c.name
     where c.filterable_keys is not null and g.index_name is not null and g.state in ('live', 'building', 'retained')`,
  );
  for (const row of declared) await index.ensureFilterable(row.index_name, row.filterable_keys);
}

export async function openPlatform(config: Config): Promise<Platform> {
  // First: spans of everything opened below go to the provider it registers.
  const tracing = startTracing(config);
  const payloads = payloadProtection(config);
  const opened = config.DATABASE_URL ? await openPostgres(config.DATABASE_URL) : await openEmbeddedPostgres(join(config.DATA_DIR, 'db'));
  // Statements are parameterized: their text carries no values, so it may go into spans.
  const db = tracing.enabled
    ? traced(opened, 'db', ['query', 'transaction'], { 'db.system.name': 'postgresql' }, (method, args) => (method === 'query' ? { 'db.query.text': String(args[0]).slice(0, 500) } : {}))
    : opened;
  let closeOnFailure: (() => Promise<void>) | undefined;
  try {
    await migrate(db);
    const prompts = new PromptRegistry(new PromptStore(db));
    await prompts.seed({ [ANSWER_PROMPT]: config.ANSWER_PROMPT_VERSION });
    const store: VectorIndex =
      config.VECTOR_STORE === 'qdrant'
        ? new QdrantVectorIndex({ url: config.QDRANT_URL as string, apiKey: config.QDRANT_API_KEY })
        : await EmbeddedVectorIndex.open(db);
    const index = tracing.enabled
      ? traced(store, 'index', ['search', 'upsert', 'deletePoints', 'count', 'ensureSpace', 'dropSpace'], { 'db.system.name': config.VECTOR_STORE === 'qdrant' ? 'qdrant' : 'postgresql' }, (_method, args) => ({ 'db.collection.name': String(args[0]) }))
      : store;
    await prepareIndex(db, index);
    const metrics = new Metrics({ tenantLabels: config.METRICS_TENANT_LABELS === 'on' });
    const cache = openCacheStore(config, db);
    closeOnFailure = cache?.close;
    const embedders = await createEmbedderRegistry(config, metrics, cache?.store);
    const cpu = new CpuPool({ threads: config.INGEST_THREADS });
    return {
      config,
      db,
      metadata: new MetadataStore(db),
      collections: new CollectionStore(db),
      generations: new GenerationStore(db),
      reindexRuns: new ReindexRunStore(db),
      evalSets: new EvalSetStore(db),
      tenants: new TenantStore(db),
      audit: new AuditLog(db),
      blobs: new BlobStore(join(config.DATA_DIR, 'blobs')),
      cpu,
      index,
      embedder: embedders.primary,
      embedders,
      metrics,
      usage: new UsageLedger(db),
      answers: new AnswerLog(db),
      prompts,
      experiments: new ExperimentStore(db),
      tracing,
      cache: cache?.store ?? null,
      payloads,
      async close() {
        await cpu.close();
        await embedders.close();
        await index.close();
        await cache?.close();
        await db.close();
        await tracing.shutdown();
      },
    };
  } catch (error) {
    await closeOnFailure?.();
    await db.close();
    throw error;
  }
}

/**
 * Redis when configured (one connection for the caches; commands fail at once while it is
 * unreachable, which the caches take as a miss), the metadata database otherwise.
 */
function openCacheStore(config: Config, db: SqlDatabase): { store: CacheStore; close(): Promise<void> } | null {
  if (config.ANSWER_CACHE === 'off' && config.EMBEDDING_CACHE === 'off') return null;
  if (!config.REDIS_URL) {
    const store = new SqlCacheStore(db, { maxAnswers: config.ANSWER_CACHE_MAX_ENTRIES, maxVectors: config.EMBEDDING_CACHE_MAX_ENTRIES, vectorTtlSeconds: config.EMBEDDING_CACHE_TTL_SECONDS });
    return { store, close: async () => undefined };
  }
  const redis = new Redis(config.REDIS_URL, { connectTimeout: 1_000, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // Unreachable Redis is a miss, counted in rag_cache_lookups_total{outcome="error"}; the client reconnects by itself.
  redis.on('error', () => undefined);
  const store = new RedisCacheStore(redis, { questionsPerScope: config.ANSWER_CACHE_SEMANTIC_CANDIDATES, vectorTtlSeconds: config.EMBEDDING_CACHE_TTL_SECONDS });
  return { store, close: async () => void redis.disconnect() };
}
