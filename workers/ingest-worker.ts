import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createIngestActivities } from '../activities';
import { TASK_QUEUES } from '../lib/ingest/types';
import type { Platform } from '../lib/platform';

export interface IngestWorkers {
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Two workers on one connection: workflows and I/O activities on `ingest`, CPU-bound embedding on
 * `ingest-embed` with one activity at a time, since one embedding call already uses every core
 * the model is given.
 */
export async function createIngestWorkers(
  platform: Platform,
  options: { address: string; namespace: string; workflowBundle?: WorkflowBundle },
): Promise<IngestWorkers> {
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
  return {
    async run() {
      try {
        await Promise.all([ingest.run(), embed.run()]);
      } finally {
        await connection.close();
      }
    },
    async shutdown() {
      for (const worker of [ingest, embed]) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
