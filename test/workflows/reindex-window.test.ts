import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReindexActivities } from '../../activities/reindex';
import type { ReindexInput } from '../../lib/reindex/types';
import { fakeReindexActivities as fakeActivities, ids, runReindex as runOn } from '../helpers/reindex-workflow';
import { startTemporalDevServer } from '../helpers/temporal';

/**
 * The re-index workflow's batching, on the real dev server with the activities replaced by
 * in-memory ones: what e2e tests cannot reach quickly (many batches at once, a catch-up list
 * longer than a page, continue-as-new in catch-up, a batch failing beside others in flight).
 */
describe('reindexCollectionWorkflow: the sliding window of batches', () => {
  let env: TestWorkflowEnvironment;
  before(async () => (env = await startTemporalDevServer()));
  after(async () => env?.teardown());
  const runReindex = (activities: Partial<ReindexActivities>, input: Partial<ReindexInput>, runId: string) => runOn(env, activities, input, runId);

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
