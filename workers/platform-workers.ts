import { measuredLatencies } from '../lib/models/measured-latency';
import { Connection, WorkflowClient } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createAnswerActivities, createDeletionActivities, createEvaluateActivities, createIngestActivities, createQueryActivities, createReindexActivities } from '../activities';
import { DeploymentStore } from '../lib/stores/deployment-store';
import { platformCommit } from '../lib/build-info';
import { UsageRecorder } from '../activities/usage';
import { EvidenceScorer } from '../lib/answer/evidence-scorer';
import { ChatGateway } from '../lib/models/chat-gateway';
import { LocalOnnxEmbedder } from '../lib/models/local-onnx-embedder';
import { createReranker } from '../lib/rerank/create-reranker';
import { TASK_QUEUES } from '../lib/ingest/types';
import { QUERY_TASK_QUEUE } from '../lib/query/types';
import type { Platform } from '../lib/platform';

export interface PlatformWorkers {
  /** The workers' connection: a client on it can start query runs eagerly. Closed when run() ends. */
  connection: NativeConnection;
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Workers on one connection: workflows and I/O activities on `ingest`; CPU-bound embedding on
 * `ingest-embed`, one activity at a time, since one embedding call already uses every core the
 * model is given (both in TEMPORAL_NAMESPACE); queries on `query` in TEMPORAL_QUERY_NAMESPACE.
 */
export async function createPlatformWorkers(platform: Platform, options: { address: string; workflowBundle?: WorkflowBundle }): Promise<PlatformWorkers> {
  const { TEMPORAL_NAMESPACE: namespace, TEMPORAL_QUERY_NAMESPACE: queryNamespace } = platform.config;
  const connection = await NativeConnection.connect({ address: options.address });
  // Deletions cancel ingestion runs and wait for them: that needs a client, not just a worker.
  const clientConnection = await Connection.connect({ address: options.address });
  const deletion = createDeletionActivities({
    metadata: platform.metadata,
    collections: platform.collections,
    generations: platform.generations,
    index: platform.index,
    blobs: platform.blobs,
    workflows: new WorkflowClient({ connection: clientConnection, namespace, dataConverter: platform.payloads.dataConverter }),
  });
  const usage = new UsageRecorder(platform.usage);
  const activities = createIngestActivities({
    metadata: platform.metadata,
    generations: platform.generations,
    blobs: platform.blobs,
    index: platform.index,
    embedders: platform.embedders,
    embedBatchSize: platform.config.EMBED_BATCH_SIZE,
    cpu: platform.cpu,
    metrics: platform.metrics,
    usage,
  });
  const deployments = new DeploymentStore(platform.db);
  const reindex = createReindexActivities({
    metadata: platform.metadata,
    generations: platform.generations,
    runs: platform.reindexRuns,
    evalSets: platform.evalSets,
    blobs: platform.blobs,
    index: platform.index,
    embedders: platform.embedders,
    embedBatchSize: platform.config.EMBED_BATCH_SIZE,
    retainGenerations: platform.config.REINDEX_RETAIN_GENERATIONS,
    cpu: platform.cpu,
    usage,
    evidence: { deployments, platformCommit: platformCommit() },
  });
  // Evaluations ask through the query path, as users do: runs in the query namespace.
  const evaluate = createEvaluateActivities({
    evalSets: platform.evalSets,
    collections: platform.collections,
    tenants: platform.tenants,
    prompts: platform.prompts.store,
    deployments,
    queries: new WorkflowClient({ connection: clientConnection, namespace: queryNamespace, dataConverter: platform.payloads.dataConverter }),
  });
  const workflowSource = options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') };
  // Tracing on: workflows and activities continue the trace their starter began.
  const plugins = platform.tracing.temporalPlugin ? [platform.tracing.temporalPlugin] : [];
  const { dataConverter } = platform.payloads;
  const ingest = await Worker.create({
    connection,
    namespace,
    taskQueue: TASK_QUEUES.ingest,
    ...workflowSource,
    plugins,
    dataConverter,
    activities: { ...activities, ...reindex, ...deletion, ...evaluate },
    // Parsing, chunking and indexing share this thread: more at once only adds memory.
    maxConcurrentActivityTaskExecutions: 2,
  });
  const embed = await Worker.create({
    connection,
    namespace,
    taskQueue: TASK_QUEUES.embed,
    plugins,
    dataConverter,
    // Re-index batches embed too: one CPU-bound activity at a time, uploads interleaving between batches.
    activities: { embedChunks: activities.embedChunks, reindexDocuments: reindex.reindexDocuments },
    maxConcurrentActivityTaskExecutions: 1,
  });
  const { config } = platform;
  const gateway = ChatGateway.fromConfig(
    config.chatModels,
    { maxAttempts: config.CHAT_MAX_ATTEMPTS, initialDelayMs: config.CHAT_RETRY_INITIAL_MS, maxDelayMs: config.CHAT_RETRY_MAX_DELAY_MS },
    { failureThreshold: config.BREAKER_FAILURE_THRESHOLD, cooldownMs: config.BREAKER_COOLDOWN_MS },
    process.env,
    config.LOCAL_CHAT_THREADS,
    platform.metrics,
  );
  // Evidence is scored with the local model whatever model a collection is embedded with: it reranks, it does not index.
  const evidence = new EvidenceScorer(await platform.embedders.get(LocalOnnxEmbedder.MODEL_ID));
  // Queries get their own queue so a burst of ingestion never queues ahead of a user waiting.
  const query = await Worker.create({
    connection,
    namespace: queryNamespace,
    taskQueue: QUERY_TASK_QUEUE,
    ...workflowSource,
    plugins,
    dataConverter,
    activities: {
      ...createQueryActivities({ metadata: platform.metadata, generations: platform.generations, index: platform.index, embedders: platform.embedders, usage }),
      ...createAnswerActivities({
        gateway,
        reranker: createReranker(config, evidence),
        evidence,
        db: platform.db,
        prompts: platform.prompts,
        latencies: measuredLatencies(platform.usage),
        settings: { relevanceFloor: config.RELEVANCE_FLOOR, routingPolicy: config.ROUTING_POLICY },
        usage,
      }),
    },
  });
  const workers = [ingest, embed, query];
  return {
    connection,
    async run() {
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await gateway.close();
        await clientConnection.close();
        await connection.close();
      }
    },
    async shutdown() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
