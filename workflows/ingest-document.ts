import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { IngestActivities } from '../activities';
import { DOCUMENT_DELETED, NON_RETRYABLE_INGEST_ERRORS } from '../lib/errors';
import { TASK_QUEUES, type IngestDocumentInput, type IngestDocumentResult, type IngestStage } from '../lib/ingest/types';

export interface IngestProgress {
  stage: IngestStage;
  pageCount?: number | null;
  chunkCount?: number;
}

export const ingestProgressQuery = defineQuery<IngestProgress>('ingestProgress');

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
  nonRetryableErrorTypes: [...NON_RETRYABLE_INGEST_ERRORS],
};

/**
 * parse → chunk → embed → index → activate. Each step is an activity over the claim-check store,
 * so only ids and counts enter the history; every step is idempotent, so any retry is safe.
 */
export async function ingestDocumentWorkflow(input: IngestDocumentInput): Promise<IngestDocumentResult> {
  const heartbeatTimeout = input.heartbeatTimeoutMs;
  const io = proxyActivities<IngestActivities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout, retry });
  const embedding = proxyActivities<IngestActivities>({ taskQueue: TASK_QUEUES.embed, startToCloseTimeout: '4 hours', heartbeatTimeout, retry });
  // Book-keeping after failure must run even if the run itself is being cancelled.
  const cleanup = proxyActivities<IngestActivities>({ startToCloseTimeout: '5 minutes', retry: { ...retry, maximumAttempts: 20 } });

  const progress: IngestProgress = { stage: 'queued' };
  setHandler(ingestProgressQuery, () => progress);

  try {
    progress.stage = 'parsing';
    progress.pageCount = (await io.parseDocument(input)).pageCount;
    progress.stage = 'chunking';
    progress.chunkCount = (await io.chunkDocument(input)).chunkCount;
    progress.stage = 'embedding';
    await embedding.embedChunks(input);
    progress.stage = 'indexing';
    await io.indexChunks(input);
    const { activeVersion, superseded } = await io.activateVersion(input);
    progress.stage = superseded ? 'superseded' : 'ready';
    return { stage: progress.stage as 'ready' | 'superseded', pageCount: progress.pageCount ?? null, chunkCount: progress.chunkCount ?? 0, activeVersion };
  } catch (error) {
    const failure = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
    if (isCancellation(error) || failure?.type === DOCUMENT_DELETED) {
      await CancellationScope.nonCancellable(() => cleanup.discardVersion(input));
      if (isCancellation(error)) throw error;
      return { stage: 'deleted', pageCount: progress.pageCount ?? null, chunkCount: progress.chunkCount ?? 0, activeVersion: 0 };
    }
    const code = failure?.type ?? 'ingest_failed';
    const message = failure?.message ?? (error as Error).message;
    await CancellationScope.nonCancellable(() => cleanup.markFailed(input, code, message));
    progress.stage = 'failed';
    throw ApplicationFailure.nonRetryable(message, code);
  }
}
