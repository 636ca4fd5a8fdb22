import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { promptly } from '../../api/services/orchestrator-unavailable';
import { freePort } from '../helpers/net';

/**
 * The client retries an unreachable server with backoff sleeps of up to 5 s that ignore the call's
 * deadline: a call under a 1 s deadline came back after 1.8 s, and the outage e2e test saw 9.4 s
 * for a 5 s one. The deadline must hold however the retries fall.
 */
describe('calls to Temporal under a deadline', () => {
  it('give up within the deadline when nothing listens at the address', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const temporal = new Client({ connection });
    try {
      for (const timeoutMs of [1_000, 2_500]) {
        const started = Date.now();
        await assert.rejects(promptly(temporal, () => temporal.workflow.start('anyWorkflow', { taskQueue: 'none', workflowId: `w-${timeoutMs}` }), timeoutMs));
        const elapsed = Date.now() - started;
        assert.ok(elapsed < timeoutMs + 300, `a ${timeoutMs} ms deadline answered after ${elapsed} ms`);
      }
    } finally {
      // A retry the client had scheduled still fires (then fails on its deadline); closing the channel under it would throw.
      await sleep(5_500);
      await connection.close();
    }
  });

  it('return what the call returns when it answers in time', async () => {
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    assert.equal(await promptly(temporal, async () => 'answered', 1_000), 'answered');
  });
});
