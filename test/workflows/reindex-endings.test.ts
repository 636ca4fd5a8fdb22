import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReindexProgress } from '../../workflows/reindex-collection';
import { fakeReindexActivities, ids, runReindex } from '../helpers/reindex-workflow';
import { startTemporalDevServer, waitFor } from '../helpers/temporal';

/** The failure's type, for runs that ended with an ApplicationFailure. */
function failureType(error: Error | undefined): string | undefined {
  const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
  return cause instanceof ApplicationFailure ? cause.type ?? undefined : undefined;
}

/**
 * How a re-index gives up, on the real dev server with in-memory activities: the branches e2e
 * tests cannot reach quickly (a collection that never settles, an activation that beats every
 * swap, a cancel while paused). Each must drop the half-built target and say why.
 */
describe('reindexCollectionWorkflow: runs that cannot finish', () => {
  let env: TestWorkflowEnvironment;
  before(async () => (env = await startTemporalDevServer()));
  after(async () => env?.teardown());

  it('gives up after five catch-up passes when documents keep changing, across continue-as-new, and drops the target', async () => {
    const { activities, seen } = fakeReindexActivities(ids('doc', 4), [], { neverSettle: ['busy-000'], batchMs: 25 });
    const { error, runs } = await runReindex(env, activities, { batchesInFlight: 2, batchesPerRun: 2 }, 'rx_exhausted');
    assert.equal(failureType(error), 'reindex_unsettled', String(error));
    assert.match(String((error as WorkflowFailedError).cause?.message), /1 documents still missing after 5 catch-up passes/);
    assert.equal(seen.rebuilt.filter((id) => id === 'busy-000').length, 5, 'one rebuild per pass, five passes');
    assert.equal(seen.sweeps.length, 6, 'the sixth sweep found it missing still');
    assert.ok(runs >= 2, `the pass count survived continue-as-new (${runs} runs)`);
    assert.equal(seen.swaps, 0, 'never swapped');
    assert.deepEqual(seen.abandoned, ['failed']);
    assert.equal(seen.stages.at(-1), 'failed');
  });

  it('gives up when an activation slips in after the gate at every swap, and drops the target', async () => {
    const { activities, seen } = fakeReindexActivities(ids('doc', 4), [], { swapNeverSettles: true, batchMs: 25 });
    const { error } = await runReindex(env, activities, { batchesInFlight: 2 }, 'rx_unsettled');
    assert.equal(failureType(error), 'reindex_unsettled', String(error));
    assert.match(String((error as WorkflowFailedError).cause?.message), /changed during every swap attempt/);
    assert.equal(seen.swaps, 5, 'one swap attempt per catch-up round');
    assert.equal(seen.stages.filter((stage) => stage === 'gating').length, 5, 'gated again before each attempt');
    assert.deepEqual(seen.abandoned, ['failed']);
    assert.equal(seen.stages.at(-1), 'failed');
  });

  it('cancels a paused run: nothing more is rebuilt, the target is dropped once no batch runs, the run ends cancelled', async () => {
    const documents = ids('doc', 16);
    const { activities, seen } = fakeReindexActivities(documents, [], { batchMs: 400 });
    let rebuiltWhenPaused = -1;
    const { error } = await runReindex(env, activities, { batchesInFlight: 2, batchesPerRun: 100 }, 'rx_paused', async (handle) => {
      await waitFor('a first batch', async () => seen.rebuilt.length, (count) => count > 0, 30_000, 25);
      const progress = await handle.executeUpdate<ReindexProgress, []>('pauseReindex');
      assert.equal(progress.paused, true);
      await waitFor('the pause to hold', async () => seen.stages.at(-1), (stage) => stage === 'paused', 30_000, 25);
      rebuiltWhenPaused = seen.rebuilt.length;
      await handle.cancel();
    });
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure, String(error));
    assert.ok(rebuiltWhenPaused > 0 && rebuiltWhenPaused < documents.length, `${rebuiltWhenPaused} rebuilt when paused`);
    assert.equal(seen.rebuilt.length, rebuiltWhenPaused, 'nothing rebuilt after the pause');
    assert.deepEqual(seen.abandoned, ['cancelled']);
    assert.equal(seen.abandonedWhileRunning, 0, 'no batch was running when the target was dropped');
    assert.equal(seen.stages.at(-1), 'cancelled');
  });
});
