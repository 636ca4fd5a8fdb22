import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReindexActivities } from '../activities/reindex';
import { TASK_QUEUES } from '../lib/ingest/types';
import { reindexWorkflowId, type GateReport, type ReindexBatchInput, type ReindexBatchResult, type ReindexCounters, type ReindexInput, type ReindexResult, type ReindexStage } from '../lib/reindex/types';
import { publishStage } from './run-stage';

export interface ReindexProgress {
  stage: ReindexStage;
  paused: boolean;
  counters: ReindexCounters;
  batchesDone: number;
  report?: GateReport;
}

/** Kept for runs started by clients that signal; the API sends the updates below. */
export const pauseReindexSignal = defineSignal('pause');
export const resumeReindexSignal = defineSignal('resume');
/** Pause and resume as Updates: a validator refuses what cannot apply (with a code), the answer is the state after the change. */
export const pauseReindexUpdate = defineUpdate<ReindexProgress>('pauseReindex');
export const resumeReindexUpdate = defineUpdate<ReindexProgress>('resumeReindex');
/** Past these a pause has nothing left to hold. */
const ENDING_STAGES: readonly ReindexStage[] = ['swapping', 'done', 'gate_failed', 'failed', 'cancelled'];
export const reindexProgressQuery = defineQuery<ReindexProgress>('reindexProgress');

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 };
/** Catch-up rounds before giving up on a collection whose documents keep changing faster than it. */
const MAX_CATCH_UP_ROUNDS = 5;

/**
 * Builds generation n+1 of a collection from its stored raw documents, checks it, and swaps the
 * alias: prepare → build (child workflows of a batch each, a sliding window of them in flight,
 * continue-as-new every few batches) →
 * catch up (what changed during the build) → gate → swap. Pause and resume are signals, checked
 * between batches and before the swap; cancelling removes the half-built generation. The live
 * generation serves throughout and is untouched unless the gate passes.
 */
export async function reindexCollectionWorkflow(input: ReindexInput): Promise<ReindexResult> {
  const work = proxyActivities<ReindexActivities>({ startToCloseTimeout: '1 hour', heartbeatTimeout: input.heartbeatTimeoutMs, retry });
  const book = proxyActivities<ReindexActivities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 30 } });

  // Runs started before the sliding window ran one batch at a time and swept unpaged: they replay so.
  const windowed = patched('reindex-sliding-window');
  const inFlightLimit = windowed ? Math.max(1, input.batchesInFlight ?? 1) : 1;
  const sweepPage = windowed ? [{ limit: input.batchSize * input.batchesPerRun }] : [];

  const progress: ReindexProgress = {
    stage: input.catchUp ? 'catching_up' : input.cursor ? 'building' : 'queued',
    paused: input.paused ?? false,
    counters: input.counters ?? { documentsDone: 0, chunks: 0, errors: 0 },
    batchesDone: input.cursor?.batch ?? 0,
  };
  let documentsTotal = input.documentsTotal;
  setHandler(reindexProgressQuery, () => progress);
  setHandler(pauseReindexSignal, () => void (progress.paused = true));
  setHandler(resumeReindexSignal, () => void (progress.paused = false));
  setHandler(pauseReindexUpdate, () => ((progress.paused = true), progress), {
    validator: () => {
      if (ENDING_STAGES.includes(progress.stage)) throw ApplicationFailure.nonRetryable(`the run is ${progress.stage}: nothing left to pause`, 'reindex_finished');
      if (progress.paused) throw ApplicationFailure.nonRetryable('the run is already paused', 'reindex_already_paused');
    },
  });
  setHandler(resumeReindexUpdate, () => ((progress.paused = false), progress), {
    validator: () => {
      if (!progress.paused) throw ApplicationFailure.nonRetryable('the run is not paused', 'reindex_not_paused');
    },
  });

  const describe = () => {
    const { counters } = progress;
    const total = documentsTotal === undefined ? '' : `/${documentsTotal}`;
    setCurrentDetails(
      [
        `**${input.kind === 'rollback' ? 'Rollback' : 'Re-index'} of ${input.collection}: g${input.fromGeneration} → g${input.target.generation}**`,
        `stage: ${progress.paused ? 'paused' : progress.stage}`,
        `documents: ${counters.documentsDone}${total} · chunks: ${counters.chunks} · errors: ${counters.errors} · batches: ${progress.batchesDone}`,
        `chunks of ${input.target.chunking.chunkSizeTokens} tokens overlapping by ${input.target.chunking.chunkOverlapTokens} · model: ${input.target.embeddingModel}`,
        ...(progress.report ? [`gate: ${progress.report.passed ? 'passed' : `failed: ${progress.report.reasons.join('; ')}`}`] : []),
      ].join('\n\n'),
    );
  };
  /**
   * Bookkeeping and the swap finish even when a cancel arrives meanwhile: a cancelled write could
   * land after the run's last one, and a cancelled swap could still go through on the worker while
   * the run dropped the generation it made live. The next step of real work sees the cancel.
   */
  const evenIfCancelled = <T>(step: () => Promise<T>): Promise<T> => (patched('reindex-steps-outlive-cancel') ? CancellationScope.nonCancellable(step) : step());
  const enter = async (stage: ReindexStage, extra: { report?: GateReport; finished?: boolean; paused?: boolean } = {}) => {
    progress.stage = stage;
    publishStage(stage);
    describe();
    await evenIfCancelled(() => book.recordRun(input.runId, { stage, ...extra }));
  };
  /**
   * Holds here while paused, showing it in the stage once the batches in flight have finished
   * (paused means nothing moves); a cancel while paused still goes through.
   */
  const holdIfPaused = async () => {
    if (!progress.paused) return;
    await waitInFlight(0);
    const resumeTo = progress.stage;
    publishStage('paused');
    describe();
    await evenIfCancelled(() => book.recordRun(input.runId, { stage: 'paused', paused: true }));
    await condition(() => !progress.paused);
    await enter(resumeTo, { paused: false });
  };
  const runBatch = async (documentIds: string[], name: string) => {
    const batch: ReindexBatchInput = { runId: input.runId, tenantId: input.tenantId, collection: input.collection, target: input.target, documentIds, heartbeatTimeoutMs: input.heartbeatTimeoutMs };
    // Named from the input, not the run: the same ids on every replay and across continue-as-new.
    const result = await executeChild(reindexBatchWorkflow, { workflowId: `${reindexWorkflowId(input.tenantId, input.collection, input.runId)}/${name}`, args: [batch] });
    progress.counters.documentsDone += result.indexed + result.alreadyIndexed;
    progress.counters.chunks += result.chunks;
    progress.counters.errors += result.failed;
    progress.batchesDone++;
    describe();
    await evenIfCancelled(() => book.recordRun(input.runId, { counters: progress.counters }));
  };

  /**
   * The sliding window: batches run as child workflows, up to `inFlightLimit` at once, each in a
   * scope of its own so that one failing cancels the rest before the run gives up the target.
   */
  const inFlight = new Map<string, CancellationScope>();
  let batchFailure: unknown;
  const launch = (documentIds: string[], name: string) => {
    const scope = new CancellationScope();
    inFlight.set(name, scope);
    void scope
      .run(() => runBatch(documentIds, name))
      .catch((error: unknown) => void (batchFailure ??= error))
      .finally(() => inFlight.delete(name));
  };
  const waitInFlight = async (atMost: number) => {
    await condition(() => inFlight.size <= atMost || batchFailure !== undefined);
    if (batchFailure !== undefined) throw batchFailure;
  };
  let batchesThisRun = 0;
  /** Past its share of batches a run continues as new (after its batches finish): the history stays bounded. */
  const dueForNewRun = () => batchesThisRun >= input.batchesPerRun || workflowInfo().continueAsNewSuggested;
  const continueWith = async (carried: Partial<ReindexInput>) => {
    await waitInFlight(0);
    await continueAsNew<typeof reindexCollectionWorkflow>({ ...input, counters: progress.counters, paused: progress.paused, documentsTotal, ...carried });
  };

  try {
    if (!input.cursor && !input.catchUp) {
      documentsTotal = (await work.prepareTarget(input)).documentsTotal;
      await enter('building');
    } else {
      describe();
    }
    if (!input.catchUp) {
      let cursor = input.cursor ?? { after: '', batch: 0 };
      for (;;) {
        await waitInFlight(inFlightLimit - 1);
        await holdIfPaused();
        // A fresh history for the next stretch: the cursor and counters are all it needs.
        if (dueForNewRun()) await continueWith({ cursor });
        const documentIds = await work.listDocumentPage({ tenantId: input.tenantId, collection: input.collection, after: cursor.after, limit: input.batchSize });
        if (documentIds.length === 0) break;
        launch(documentIds, `batch-${cursor.batch}`);
        batchesThisRun++;
        cursor = { after: documentIds[documentIds.length - 1] as string, batch: cursor.batch + 1 };
      }
      await waitInFlight(0);
    }

    for (let round = input.catchUp?.round ?? 1; ; round++) {
      await enter('catching_up');
      for (let pass = round === input.catchUp?.round ? input.catchUp.pass : 1; ; ) {
        const { missing, more } = await work.sweepTarget(input, ...sweepPage);
        if (missing.length === 0) break;
        if (pass > MAX_CATCH_UP_ROUNDS) throw ApplicationFailure.nonRetryable(`${missing.length} documents still missing after ${MAX_CATCH_UP_ROUNDS} catch-up passes`, 'reindex_unsettled');
        for (let i = 0; i < missing.length; i += input.batchSize) {
          await waitInFlight(inFlightLimit - 1);
          await holdIfPaused();
          launch(missing.slice(i, i + input.batchSize), `catch-up-${round}-${pass}-${i / input.batchSize}`);
          batchesThisRun++;
        }
        await waitInFlight(0);
        // A page of a longer list is not a pass: the next sweep goes on with the rest.
        if (!more) pass++;
        if (windowed && dueForNewRun()) await continueWith({ catchUp: { round, pass } });
      }
      await enter('gating');
      progress.report = await work.gateTarget(input);
      if (!progress.report.passed) {
        throw ApplicationFailure.nonRetryable(`gate failed: ${progress.report.reasons.join('; ')}`, 'reindex_gate_failed', progress.report);
      }
      await holdIfPaused();
      await enter('swapping');
      const swap = await evenIfCancelled(() => work.swapTarget(input));
      if (swap.swapped) break;
      // An activation slipped in after the gate: catch up again.
      if (round >= MAX_CATCH_UP_ROUNDS) throw ApplicationFailure.nonRetryable(`${swap.missing} documents changed during every swap attempt`, 'reindex_unsettled');
    }
    // Swapped: a cancel that arrives now is too late, the new generation serves.
    await enter('done', { report: progress.report, finished: true });
    return { stage: 'done', generation: input.target.generation, report: progress.report };
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    const cancelled = isCancellation(error);
    const gateFailed = error instanceof ApplicationFailure && error.type === 'reindex_gate_failed';
    await CancellationScope.nonCancellable(async () => {
      // Batches still running would write into the target being dropped: stop them first.
      for (const scope of inFlight.values()) scope.cancel();
      await condition(() => inFlight.size === 0);
      await book.abandonTarget(input, cancelled ? 'cancelled' : 'failed');
      await enter(cancelled ? 'cancelled' : gateFailed ? 'gate_failed' : 'failed', { report: progress.report, finished: true });
    });
    throw error;
  }
}

/** One batch of documents, rebuilt by one heartbeating activity on the embedding queue. */
export async function reindexBatchWorkflow(batch: ReindexBatchInput): Promise<ReindexBatchResult> {
  // A cancelled batch ends once its activity has stopped writing, not as soon as it was asked to:
  // the parent drops the target right after (runs from before this change replay as they ran).
  const waitForStop = patched('reindex-batch-waits-for-cancel');
  const { reindexDocuments } = proxyActivities<ReindexActivities>({
    taskQueue: TASK_QUEUES.embed,
    ...(waitForStop && { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }),
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: batch.heartbeatTimeoutMs,
    retry,
  });
  return reindexDocuments(batch);
}
