import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ReindexActivities } from '../../activities/reindex';
import { TASK_QUEUES } from '../../lib/ingest/types';
import { REINDEX_TASK_QUEUE, type GateReport, type ReindexBatchInput, type ReindexInput, type ReindexStage } from '../../lib/reindex/types';

/**
 * reindexCollectionWorkflow on the real dev server with its activities replaced by in-memory ones:
 * for the branches that e2e tests cannot reach quickly.
 */

const PASSED: GateReport = { passed: true, reasons: [], documents: { expected: 0, present: 0, missing: [], wrongChunkCount: [] }, recall: null };
export const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

export interface FakeOptions {
  /** A batch holding this document fails, not to be retried. */
  failOn?: string;
  batchMs?: number;
  /** Documents that every sweep reports missing, however often they are rebuilt (they keep changing). */
  neverSettle?: string[];
  /** Every swap finds an activation that slipped in after the gate. */
  swapNeverSettles?: boolean;
}

/** Activities over a collection of `documents`; the first sweep finds `lateUploads` more. */
export function fakeReindexActivities(documents: string[], lateUploads: string[], options: FakeOptions = {}) {
  const seen = {
    running: 0,
    mostAtOnce: 0,
    rebuilt: [] as string[],
    sweeps: [] as { limit?: number; returned: number; more?: boolean }[],
    swaps: 0,
    abandoned: [] as string[],
    abandonedWhileRunning: -1,
    cancelledBatches: 0,
    stages: [] as ReindexStage[],
  };
  let missing = [...lateUploads];
  const activities: Partial<ReindexActivities> = {
    prepareTarget: async () => ({ documentsTotal: documents.length }),
    listDocumentPage: async ({ after, limit }) => documents.filter((id) => id > after).slice(0, limit),
    recordRun: async (_runId, update) => void (update.stage && seen.stages.push(update.stage)),
    sweepTarget: async (_input, page) => {
      const limit = page?.limit ?? Number.MAX_SAFE_INTEGER;
      const all = [...missing, ...(options.neverSettle ?? [])];
      const result = { missing: all.slice(0, limit), removedStale: 0, more: all.length > limit };
      seen.sweeps.push({ limit: page?.limit, returned: result.missing.length, more: result.more });
      return result;
    },
    gateTarget: async () => PASSED,
    swapTarget: async () => {
      seen.swaps++;
      return options.swapNeverSettles ? { swapped: false, missing: 1 } : { swapped: true, missing: 0 };
    },
    abandonTarget: async (_input, outcome) => {
      seen.abandonedWhileRunning = seen.running;
      seen.abandoned.push(outcome);
    },
    reindexDocuments: async (batch: ReindexBatchInput) => {
      seen.running++;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
      try {
        const { Context } = await import('@temporalio/activity');
        const context = Context.current();
        const failing = options.failOn !== undefined && batch.documentIds.includes(options.failOn);
        for (let waited = 0; waited < (failing ? 50 : (options.batchMs ?? 150)); waited += 25) {
          context.heartbeat();
          await Promise.race([sleep(25), context.cancelled]).catch(() => undefined);
          if (context.cancellationSignal.aborted) {
            seen.cancelledBatches++;
            throw context.cancellationSignal.reason;
          }
        }
        if (failing) throw ApplicationFailure.nonRetryable(`cannot rebuild ${options.failOn}`, 'broken_document');
        seen.rebuilt.push(...batch.documentIds);
        missing = missing.filter((id) => !batch.documentIds.includes(id));
        return { indexed: batch.documentIds.length, alreadyIndexed: 0, gone: 0, failed: 0, chunks: batch.documentIds.length };
      } finally {
        seen.running--;
      }
    },
  };
  return { activities, seen };
}

/**
 * Runs one re-index to its end with workers for the given activities; `drive` acts on the run
 * meanwhile (pause, cancel). Returns the result or the error, and how many runs the chain took.
 */
export async function runReindex(
  env: TestWorkflowEnvironment,
  activities: Partial<ReindexActivities>,
  input: Partial<ReindexInput>,
  runId: string,
  drive?: (handle: WorkflowHandle) => Promise<void>,
) {
  const workflows = await Worker.create({ connection: env.nativeConnection, taskQueue: REINDEX_TASK_QUEUE, workflowsPath: require.resolve('../../workflows'), activities });
  // Room for more batches than the window allows: the window, not the worker, must be the bound.
  const embedding = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.embed, activities, maxConcurrentActivityTaskExecutions: 8 });
  const full: ReindexInput = {
    runId,
    kind: 'reindex',
    tenantId: 't',
    collection: 'c',
    fromGeneration: 1,
    target: { generation: 2, indexName: 'idx', embeddingModel: 'm', chunking: { chunkSizeTokens: 64, chunkOverlapTokens: 8 } },
    batchSize: 2,
    batchesPerRun: 4,
    heartbeatTimeoutMs: 5_000,
    gate: { k: 5, recallMargin: 0.05 },
    ...input,
  };
  const workflowId = `reindex/t/c/${runId}`;
  const outcome = await workflows.runUntil(
    embedding.runUntil(async () => {
      const handle = await env.client.workflow.start('reindexCollectionWorkflow', { taskQueue: REINDEX_TASK_QUEUE, workflowId, args: [full] });
      await drive?.(handle);
      return handle.result().then(
        (result) => ({ result, error: undefined }),
        (error: Error) => ({ result: undefined, error }),
      );
    }),
  );
  const runs: string[] = [];
  for await (const execution of env.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(execution.runId);
  return { ...outcome, runs: runs.length };
}
