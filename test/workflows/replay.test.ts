import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

const HISTORIES = join(__dirname, 'histories');

/**
 * Recorded histories of real runs must replay against today's workflow code: a change that
 * would break runs in flight fails here first (guard such changes with patched()).
 */
describe('workflows replay recorded histories', () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

  it('has histories of a ready and a failed ingestion, a retrieval, an answer, a re-index and one of its batches, an evaluation', () => {
    for (const kind of ['ingest-ready', 'ingest-failed', 'retrieve', 'answer', 'reindex-v', 'reindex-batch', 'evaluate']) assert.ok(files.some((f) => f.startsWith(kind)), `${kind} in ${files.join(', ')}`);
  });

  it('replays every one without nondeterminism', async () => {
    const histories = files.map((file) => ({ workflowId: file, history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'))) }));
    const results = Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows'), replayName: 'ingest-replay' }, histories);
    let replayed = 0;
    for await (const result of results) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
      replayed++;
    }
    assert.equal(replayed, files.length);
  });
});
