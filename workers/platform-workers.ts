import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createIngestActivities, createQueryActivities } from '../activities';
import { TASK_QUEUES } from '../lib/ingest/types';
import { QUERY_TASK_QUEUE } from '../lib/query/types';
import type { Platform } from '../lib/platform';

export interface PlatformWorkers {
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Workers on one connection: workflows and I/O activities on `ingest`; CPU-bound embedding on
 * `ingest-embed`, one activity at a time, since one embedding call already uses every core the
 * model is given; queries on `query`.
 */
export async function createPlatformWorkers(
  platform: Platform,
  options: { address: string; namespace: string; workflowBundle?: WorkflowBundle },
): Promise<PlatformWorkers> {
  const connection = await NativeConnection.connect({ address: options.address });
  const activities = createIngestActivities({
    metadata: platform.metadata,
    blobs: platform.blobs,
    index: platform.index,
    embedder: platform.embedder,
    embedBatchSize: platform.config.EMBED_BATCH_SIZE,
  });
  const workflowSource = options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') };
  const ingest = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: TASK_QUEUES.ingest,
    ...workflowSource,
    activities,
    // Parsing, chunking and indexing share this thread: more at once only adds memory.
    maxConcurrentActivityTaskExecutions: 2,
  });
  const embed = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: TASK_QUEUES.embed,
    activities: { embedChunks: activities.embedChunks },
    maxConcurrentActivityTaskExecutions: 1,
  });
  // Queries get their own queue so a burst of ingestion never queues ahead of a user waiting.
  const query = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: QUERY_TASK_QUEUE,
    ...workflowSource,
    activities: createQueryActivities({ metadata: platform.metadata, index: platform.index, embedder: platform.embedder }),
  });
  const workers = [ingest, embed, query];
  return {
    async run() {
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await connection.close();
      }
    },
    async shutdown() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
