import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { countPoints } from '../helpers/points';
import { loadConfig } from '../../lib/config';
import { openPlatform } from '../../lib/platform';
import { payloadProtection } from '../../lib/temporal/data-converter';
import { realPdfs } from '../helpers/fixtures';
import { startTemporalDevServer, waitFor } from '../helpers/temporal';
import { allInOne } from '../helpers/process';

/**
 * Kills the all-in-one process (API + worker, the zero-setup deployment) with SIGKILL in the
 * middle of embedding, starts it again, and checks that ingestion resumes where it stopped and
 * indexes every chunk exactly once.
 */
describe('worker killed during embedding', () => {
  let env: TestWorkflowEnvironment;
  const dataDir = mkdtempSync(join(tmpdir(), 'rag-crash-'));
  let child: Awaited<ReturnType<typeof allInOne>>;

  before(async () => {
    env = await startTemporalDevServer();
    child = await allInOne({
      temporalAddress: env.address,
      dataDir,
      settings: {
        // Small batches and chunks: many heartbeats to die between. A short heartbeat timeout
        // makes Temporal notice the dead worker in seconds.
        EMBED_BATCH_SIZE: '4',
        CHUNK_SIZE_TOKENS: '100',
        CHUNK_OVERLAP_TOKENS: '10',
        ACTIVITY_HEARTBEAT_TIMEOUT_MS: '3000',
      },
    });
  });
  after(async () => {
    await child?.stop('SIGKILL');
    await env?.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes after SIGKILL and indexes every chunk exactly once', async () => {
    const { api } = child;

    await child.start();
    const accepted = await api.upload('papers', { bytes: realPdfs.tracingJit(), filename: 'tracemonkey.pdf', type: 'application/pdf' }, { documentId: 'tracemonkey' });
    assert.equal(accepted.status, 202);

    const midway = await waitFor(
      'embedding to be under way',
      async () => (await api.get('/v1/documents/tracemonkey')).body,
      (doc) => doc.stage === 'embedding' && doc.versions[0].chunksEmbedded >= 12,
      120_000,
      20,
    );
    const chunkCount = midway.versions[0].chunkCount as number;
    assert.ok(midway.versions[0].chunksEmbedded < chunkCount, `killed part-way: ${midway.versions[0].chunksEmbedded}/${chunkCount}`);
    await child.stop('SIGKILL');

    await child.start();
    const done = await waitFor('ingestion to finish after the restart', async () => (await api.get('/v1/documents/tracemonkey')).body, (doc) => ['ready', 'failed'].includes(doc.stage), 180_000, 200);
    assert.equal(done.stage, 'ready', JSON.stringify(done.error));
    assert.equal(done.chunkCount, chunkCount, 'chunking is deterministic');

    // The embedding activity ran twice and its second attempt skipped the batches already done.
    const history = await env.client.workflow.getHandle(accepted.body.workflowId).fetchHistory();
    const events = history.events!;
    const embedScheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'embedChunks')!;
    const embedAttempts = events.filter((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(embedScheduled.eventId)).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.ok(embedAttempts.some((attempt) => attempt! >= 2), `attempts ${JSON.stringify(embedAttempts)}`);
    const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(embedScheduled.eventId));
    // The process encrypts payloads with the key it generated into its data directory.
    const { codec } = payloadProtection({ PAYLOAD_ENCRYPTION: 'on', PAYLOAD_KEYS: undefined, DATA_DIR: dataDir });
    const [payload] = await codec!.decode([completed!.activityTaskCompletedEventAttributes!.result!.payloads![0]!]);
    const result = defaultPayloadConverter.fromPayload<{ batches: number; resumedBatches: number }>(payload!);
    assert.ok(result.resumedBatches >= 3, `resumed ${result.resumedBatches} of ${result.batches} batches`);

    // Stop the process and read its stores directly: exactly one point per chunk, nothing else.
    await child.stop('SIGTERM');
    const platform = await openPlatform(loadConfig({ ...child.env }));
    try {
      assert.equal(await countPoints(platform, { collection: 'papers', documentId: 'tracemonkey', version: 1 }), chunkCount);
      assert.equal(await countPoints(platform, { collection: 'papers' }), chunkCount);
    } finally {
      await platform.close();
    }
  });
});
