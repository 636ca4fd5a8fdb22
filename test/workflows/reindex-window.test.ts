import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ReindexActivities } from '../../activities/reindex';
import { TASK_QUEUES } from '../../lib/ingest/types';
import { REINDEX_TASK_QUEUE, type GateReport, type ReindexBatchInput, type ReindexInput } from '../../lib/reindex/types';
import { startTemporalDevServer } from '../helpers/temporal';

const PASSED: GateReport = { passed: true, reasons: [], documents: { expected: 0, present: 0, missing: [], wrongChunkCount: [] }, recall: null };
const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

/**
 * The re-index workflow's batching, on the real dev server with the activities replaced by
 * in-memory ones: what e2e tests cannot reach quickly (many batches at once, a catch-up list
 * longer than a page, continue-as-new in catch-up, a batch failing beside others in flight).
 */
describe('reindexCollectionWorkflow: the sliding window of batches', () => {
  let env: TestWorkflowEnvironment;
  before(async () => (env = await startTemporalDevServer()));
  after(async () => env?.teardown());

  /** Activities over a collection of `documents`; the first sweep finds `lateUploads` more. */
  function fakeActivities(documents: string[], lateUploads: string[], options: { failOn?: string; batchMs?: number } = {}) {
    const seen = { running: 0, mostAtOnce: 0, rebuilt: [] as string[], sweeps: [] as { limit?: number; returned: number; more?: boolean }[], abandonedWhileRunning: -1, cancelledBatches: 0 };
    let missing = [...lateUploads];
    const activities: Partial<ReindexActivities> = {
      prepareTarget: async () => ({ documentsTotal: documents.length }),
      listDocumentPage: async ({ after, limit }) => documents.filter((id) => id > after).slice(0, limit),
      recordRun: async () => undefined,
      sweepTarget: async (_input, page) => {
        const limit = page?.limit ?? Number.MAX_SAFE_INTEGER;
        const result = { missing: missing.slice(0, limit), removedStale: 0, more: missing.length > limit };
        seen.sweeps.push({ limit: page?.limit, returned: result.missing.length, more: result.more });
        return result;
      },
      gateTarget: async () => PASSED,
      swapTarget: async () => ({ swapped: true, missing: 0 }),
      abandonTarget: async () => void (seen.abandonedWhileRunning = seen.running),
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

  async function runReindex(activities: Partial<ReindexActivities>, input: Partial<ReindexInput>, runId: string) {
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

  it('keeps the configured number of batches in flight, rebuilds every document once, and continues as new on the way', async () => {
    const documents = ids('doc', 20);
    const late = ids('late', 11);
    const { activities, seen } = fakeActivities(documents, late);
    const { result, error, runs } = await runReindex(activities, { batchesInFlight: 3 }, 'rx_window');
    assert.equal(error, undefined, String(error));
    assert.equal((result as { stage: string }).stage, 'done');
    assert.equal(seen.mostAtOnce, 3, 'three batches ran at once, never more');
    assert.deepEqual([...seen.rebuilt].sort(), [...documents, ...late].sort(), 'each document rebuilt exactly once');
    // 10 build batches and 6 catch-up batches at 4 per run: the history was cut several times.
    assert.ok(runs >= 4, `${runs} runs`);
  });

  it('sweeps the catch-up list a page at a time, and a page is not counted as a pass', async () => {
    // 9 catch-up pages of 8 (batchSize 2 × 4 batches per run): more pages than MAX_CATCH_UP_ROUNDS (5).
    const late = ids('late', 70);
    const { activities, seen } = fakeActivities(ids('doc', 4), late, { batchMs: 25 });
    const { error } = await runReindex(activities, { batchesInFlight: 4 }, 'rx_pages');
    assert.equal(error, undefined, String(error));
    assert.ok(seen.sweeps.every((sweep) => sweep.limit === 8 && sweep.returned <= 8), JSON.stringify(seen.sweeps));
    assert.ok(seen.sweeps.filter((sweep) => sweep.more).length >= 8, 'the list came in pages');
    assert.equal(seen.sweeps.at(-1)?.returned, 0, 'until nothing was missing');
    assert.deepEqual([...seen.rebuilt].filter((id) => id.startsWith('late')).sort(), late);
  });

  it('cancels the batches still in flight when one fails, and drops the target only once they have stopped', async () => {
    const documents = ids('doc', 12);
    // Batches 0 and 2 run for 3 s beside batch 1, which fails at once; heartbeats (every 0.8 s) carry the cancel.
    const { activities, seen } = fakeActivities(documents, [], { failOn: 'doc-002', batchMs: 3_000 });
    const { error } = await runReindex(activities, { batchesInFlight: 3, batchesPerRun: 100, heartbeatTimeoutMs: 1_000 }, 'rx_failing');
    assert.ok(error, 'the run failed');
    assert.equal(seen.cancelledBatches, 2, 'both batches beside the failed one were cancelled');
    assert.equal(seen.abandonedWhileRunning, 0, 'no batch was still writing when the target was dropped');
    assert.deepEqual(seen.rebuilt, [], 'no batch ran to its end, none started after the failure');
  });
});
