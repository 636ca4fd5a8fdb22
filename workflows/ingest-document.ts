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
import { TASK_QUEUES, type IndexTarget, type IngestDocumentInput, type IngestDocumentResult, type IngestStage } from '../lib/ingest/types';
import { publishStage } from './run-stage';

export interface IngestProgress {
  stage: IngestStage;
  pageCount?: number | null;
  chunkCount?: number;
}

export const ingestProgressQuery = defineQuery<IngestProgress>('ingestProgress');

// Outages of the database, the index or the embedding endpoint are waited out for hours (each
// activity also has a schedule-to-close bound below); a bad document fails at once, never retried.
const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '5 minutes',
  nonRetryableErrorTypes: [...NON_RETRYABLE_INGEST_ERRORS],
};
const OUTAGE_BOUND = '12 hours';

/**
 * parse → (chunk → embed → index) per target generation → activate. Each step is an activity over
 * the claim-check store, so only ids and counts enter the history; every step is idempotent, so
 * any retry is safe. Activation succeeds only once every serving or building generation holds
 * the version; if a re-index began meanwhile, it names the generations still missing.
 */
export async function ingestDocumentWorkflow(input: IngestDocumentInput): Promise<IngestDocumentResult> {
  const heartbeatTimeout = input.heartbeatTimeoutMs;
  const io = proxyActivities<IngestActivities>({ startToCloseTimeout: '30 minutes', scheduleToCloseTimeout: OUTAGE_BOUND, heartbeatTimeout, retry });
  const embedding = proxyActivities<IngestActivities>({ taskQueue: TASK_QUEUES.embed, startToCloseTimeout: '4 hours', scheduleToCloseTimeout: OUTAGE_BOUND, heartbeatTimeout, retry });
  // Book-keeping after failure must run even if the run itself is being cancelled.
  const cleanup = proxyActivities<IngestActivities>({ startToCloseTimeout: '5 minutes', scheduleToCloseTimeout: OUTAGE_BOUND, retry });

  const progress: IngestProgress = { stage: 'queued' };
  setHandler(ingestProgressQuery, () => progress);
  const enter = (stage: IngestStage) => {
    progress.stage = stage;
    publishStage(stage);
  };

  const indexInto = async (target: IndexTarget, primary: boolean) => {
    enter('chunking');
    const { chunkCount } = await io.chunkDocument(input, target);
    if (primary) progress.chunkCount = chunkCount;
    enter('embedding');
    await embedding.embedChunks(input, target);
    enter('indexing');
    await io.indexChunks(input, target);
  };

  try {
    enter('parsing');
    progress.pageCount = (await io.parseDocument(input)).pageCount;
    const targets = targetsOf(input);
    for (const [i, target] of targets.entries()) await indexInto(target, i === 0);
    let activation = await io.activateVersion(input);
    // Bounded: each round indexes into generations that began after the previous one.
    for (let round = 0; (activation.missing ?? []).length > 0 && round < 5; round++) {
      for (const target of activation.missing ?? []) await indexInto(target, false);
      activation = await io.activateVersion(input);
    }
    if ((activation.missing ?? []).length > 0) throw ApplicationFailure.retryable('generations kept changing during activation', 'activation_unsettled');
    const { activeVersion, superseded } = activation;
    enter(superseded ? 'superseded' : 'ready');
    return { stage: progress.stage as 'ready' | 'superseded', pageCount: progress.pageCount ?? null, chunkCount: progress.chunkCount ?? 0, activeVersion: activeVersion ?? 0 };
  } catch (error) {
    const failure = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
    if (isCancellation(error) || failure?.type === DOCUMENT_DELETED) {
      await CancellationScope.nonCancellable(() => cleanup.discardVersion(input));
      if (isCancellation(error)) throw error;
      return { stage: 'deleted', pageCount: progress.pageCount ?? null, chunkCount: progress.chunkCount ?? 0, activeVersion: 0 };
    }
    const code = failure?.type ?? (error instanceof ApplicationFailure ? error.type : undefined) ?? 'ingest_failed';
    const message = failure?.message ?? (error as Error).message;
    await CancellationScope.nonCancellable(() => cleanup.markFailed(input, code, message));
    enter('failed');
    throw ApplicationFailure.nonRetryable(message, code);
  }
}

/** Runs started before generations existed name one index and its chunking instead of targets. */
function targetsOf(input: IngestDocumentInput): IndexTarget[] {
  if (input.targets) return input.targets;
  const legacy = input as unknown as { indexName: string; chunking: IndexTarget['chunking'] };
  return [{ generation: 0, indexName: legacy.indexName, embeddingModel: '', chunking: legacy.chunking }];
}
