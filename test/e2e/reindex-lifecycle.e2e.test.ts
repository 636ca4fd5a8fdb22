import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../lib/config';
import { chunkDocument } from '../../lib/ingest/chunk';
import { parseDocument } from '../../lib/ingest/parse';
import type { ChunkingSettings } from '../../lib/ingest/types';
import { openPlatform, type Platform } from '../../lib/platform';
import { countPoints } from '../helpers/points';
import { fastifyReferenceDocs, fastifyReferenceQuestions } from '../helpers/fixtures';
import { allInOne } from '../helpers/process';
import { apiClient } from '../helpers/stack';
import { listWorkflows, startTemporalDevServer, waitFor } from '../helpers/temporal';

const LIVE_CHUNKING = { chunkSizeTokens: 150, chunkOverlapTokens: 20 };
const NEW_CHUNKING = { chunkSizeTokens: 80, chunkOverlapTokens: 10 };
const ADDED = { documentId: 'Added-during-reindex.md', text: '# Zephyr gateway\n\nThe zephyr gateway rotates its signing keys every 17 hours and logs each rotation to the audit trail.' };
const REPLACED = 'Routes.md';
const DELETED = 'Hooks.md';

/**
 * The whole life of a re-index on the zero-setup deployment (one process: API + workers, killed
 * and restarted mid-run): ingest a real corpus, re-index with other chunking while uploading,
 * replacing and deleting documents and querying without pause, then roll back. The stores are
 * read directly at the end: each generation holds exactly the expected documents and chunks.
 */
describe('re-index lifecycle: uploads, deletes and a killed worker during the run, then rollback', () => {
  let env: TestWorkflowEnvironment;
  const dataDir = mkdtempSync(join(tmpdir(), 'rag-reindex-'));
  let child: Awaited<ReturnType<typeof allInOne>>;
  let api: ReturnType<typeof apiClient>;
  const corpus = fastifyReferenceDocs();
  const replacedText = `${corpus.find((d) => d.documentId === REPLACED)!.text}\n\n## Route aliases\n\nA route may be reached under a second path named its alias.`;

  before(async () => {
    env = await startTemporalDevServer();
    child = await allInOne({
      temporalAddress: env.address,
      dataDir,
      settings: {
        CHUNK_SIZE_TOKENS: String(LIVE_CHUNKING.chunkSizeTokens),
        CHUNK_OVERLAP_TOKENS: String(LIVE_CHUNKING.chunkOverlapTokens),
        EMBED_BATCH_SIZE: '8',
        // Small batches and few per run: many child workflows, several continue-as-new.
        REINDEX_BATCH_SIZE: '2',
        REINDEX_BATCHES_PER_RUN: '3',
        ACTIVITY_HEARTBEAT_TIMEOUT_MS: '3000',
      },
    });
    api = child.api;
  });
  let queries: ReturnType<typeof startQuerying> | undefined;
  after(async () => {
    await queries?.stop(); // a failed assertion must not leave the query loop holding the process open
    await child?.stop('SIGKILL');
    await env?.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('swaps to the rebuilt generation with every change made during the run, and rolls back', async () => {
    await child.start();
    for (const doc of corpus) {
      const response = await api.postJson('/v1/collections/ref/documents', { text: doc.text, mediaType: 'text/markdown', documentId: doc.documentId });
      assert.equal(response.status, 202, JSON.stringify(response.body));
    }
    for (const doc of corpus) await waitFor(`${doc.documentId} ready`, async () => (await api.get(`/v1/documents/${doc.documentId}`)).body, (d) => d.stage === 'ready', 300_000, 200);
    assert.equal((await api.putJson('/v1/collections/ref/eval-set', { questions: fastifyReferenceQuestions() })).status, 200);

    queries = startQuerying(api);
    const started = await api.postJson('/v1/collections/ref/reindex', NEW_CHUNKING);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runUrl = `/v1/collections/ref/reindex/${started.body.id}`;
    const progress = (done: (run: any) => boolean, what: string, timeoutMs = 300_000) => waitFor(what, async () => (await api.get(runUrl)).body, done, timeoutMs, 100);

    await progress((run) => run.documentsDone >= 2, 'the first batch');
    const added = await api.postJson('/v1/collections/ref/documents', { ...ADDED, mediaType: 'text/markdown' });
    const replaced = await api.postJson('/v1/collections/ref/documents', { text: replacedText, mediaType: 'text/markdown', documentId: REPLACED });
    assert.equal(added.status, 202);
    assert.equal(replaced.status, 202);
    assert.equal(replaced.body.version, 2);
    assert.equal((await api.delete(`/v1/documents/${DELETED}`)).status, 202);

    // Killed early, while the uploads' own ingestion runs may still be in flight too: they must survive it as well.
    const midway = await progress((run) => run.documentsDone >= 6, 'a few more batches');
    assert.equal(midway.stage, 'building');
    assert.ok(midway.etaSeconds !== null && midway.documentsTotal === corpus.length, JSON.stringify(midway));
    queries.markDown();
    await child.stop('SIGKILL');
    await child.start();
    queries.markUp();
    for (const id of [ADDED.documentId, REPLACED]) await waitFor(`${id} ready`, async () => (await api.get(`/v1/documents/${id}`)).body, (d) => d.stage === 'ready' && d.activeVersion === d.latestVersion, 120_000, 100);

    const done = await progress((run) => ['done', 'gate_failed', 'failed', 'cancelled'].includes(run.stage), 'the re-index to finish');
    assert.equal(done.stage, 'done', JSON.stringify(done.report ?? done.errors));
    assert.equal(done.report.passed, true);
    assert.equal(done.report.documents.expected, corpus.length, 'one added, one deleted');
    assert.equal(done.report.recall.questions, fastifyReferenceQuestions().length);
    assert.ok(done.report.recall.candidate >= done.report.recall.live - 0.05, JSON.stringify(done.report.recall));
    const executions = await listWorkflows(env.client, `WorkflowId = "${done.workflowId}"`);
    assert.ok(executions.length >= 3, `continued as new: ${executions.length} runs of ${done.workflowId}`);

    let collection = (await api.get('/v1/collections/ref')).body;
    assert.equal(collection.liveGeneration, 2);
    assert.deepEqual(collection.chunking, NEW_CHUNKING);
    assert.deepEqual(collection.generations.map((g: any) => [g.generation, g.state]), [[1, 'retained'], [2, 'live']]);
    // Each document shows the chunks it has where queries read: the live generation's, not those of the generation it was uploaded into.
    const shownChunks = async () => {
      const listed = (await api.get('/v1/collections/ref/documents?limit=500')).body.documents as { chunkCount: number }[];
      return listed.reduce((sum, d) => sum + d.chunkCount, 0);
    };
    const chunksInG2 = collection.chunks;
    assert.equal(await shownChunks(), chunksInG2, 'documents sum to the live generation\'s chunks');

    // While the rebuilt generation serves, another change: it must be in the old one after rollback.
    const lateText = '# Late note\n\nQuokka deployments roll out on Tuesdays only.';
    assert.equal((await api.postJson('/v1/collections/ref/documents', { text: lateText, mediaType: 'text/markdown', documentId: 'Late.md' })).status, 202);
    await waitFor('Late.md ready', async () => (await api.get('/v1/documents/Late.md')).body, (d) => d.stage === 'ready', 120_000, 100);

    const rollback = await api.postJson('/v1/collections/ref/rollback', {});
    assert.equal(rollback.status, 202, JSON.stringify(rollback.body));
    assert.deepEqual([rollback.body.kind, rollback.body.fromGeneration, rollback.body.toGeneration], ['rollback', 2, 1]);
    const rolledBack = await waitFor('the rollback', async () => (await api.get(`/v1/collections/ref/reindex/${rollback.body.id}`)).body, (r) => ['done', 'gate_failed', 'failed'].includes(r.stage), 180_000, 100);
    assert.equal(rolledBack.stage, 'done', JSON.stringify(rolledBack.report));
    assert.equal(rolledBack.report.recall, null, 'a rollback is not held to the recall comparison');
    collection = (await api.get('/v1/collections/ref')).body;
    assert.equal(collection.liveGeneration, 1);
    assert.deepEqual(collection.chunking, LIVE_CHUNKING);
    assert.equal(await shownChunks(), collection.chunks, 'after the rollback, generation 1\'s counts');
    assert.ok(collection.chunks < chunksInG2, `larger chunks, fewer of them: ${collection.chunks} against ${chunksInG2}`);
    const late = await api.postJson('/v1/query', { collection: 'ref', question: 'Which day do quokka deployments roll out?', mode: 'retrieve', topK: 3 });
    assert.equal(late.body.chunks[0]?.documentId, 'Late.md', 'the document uploaded after the swap is found after rollback');

    const summary = await queries.stop();
    queries = undefined;
    assert.ok(summary.answered >= 20, `queries answered during the run: ${JSON.stringify(summary)}`);
    assert.deepEqual(summary.failures, [], 'no query answered with an error or an empty result');
    assert.equal(summary.unreachableWhileUp, 0, 'the API was unreachable only while the process was down');

    // Read the stores directly: each generation holds exactly the expected documents and chunks.
    await child.stop('SIGTERM');
    const platform = await openPlatform(loadConfig({ ...child.env }));
    try {
      const expected = [...corpus.filter((d) => d.documentId !== DELETED && d.documentId !== REPLACED), ADDED, { documentId: REPLACED, text: replacedText }, { documentId: 'Late.md', text: lateText }];
      assert.equal((await platform.generations.live('default', 'ref'))?.generation, 1, 'Postgres says generation 1 serves again');
      await assertGenerationHolds(platform, 1, expected, LIVE_CHUNKING);
      await assertGenerationHolds(platform, 2, expected, NEW_CHUNKING);
    } finally {
      await platform.close();
    }
  });
});

/** Every active document with exactly the chunks its text makes under these settings, and nothing else. */
async function assertGenerationHolds(platform: Platform, generation: number, docs: { documentId: string; text: string }[], chunking: ChunkingSettings): Promise<void> {
  const where = `generation ${generation}`;
  let total = 0;
  for (const doc of docs) {
    const record = await platform.metadata.getDocument('default', doc.documentId);
    assert.ok(record?.activeVersion, `${doc.documentId} is active`);
    const parsed = await parseDocument(new TextEncoder().encode(doc.text), 'text/markdown');
    const chunks = await chunkDocument(parsed, chunking, (text) => platform.embedder.countTokens(text), true);
    const points = await countPoints(platform, { collection: 'ref', generation, documentId: doc.documentId, version: record!.activeVersion! });
    assert.equal(points, chunks.length, `${where}: ${doc.documentId} v${record!.activeVersion}`);
    total += chunks.length;
  }
  assert.equal(await countPoints(platform, { collection: 'ref', generation }), total, `${where} holds no other points (deleted or replaced versions)`);
}

/** Queries the collection without pause; the process being down is told apart from a failed answer. */
function startQuerying(api: ReturnType<typeof apiClient>) {
  let running = true;
  let up = true;
  const summary = { answered: 0, unreachableWhileUp: 0, unreachableWhileDown: 0, failures: [] as string[] };
  const loop = (async () => {
    while (running) {
      try {
        const response = await api.postJson('/v1/query', { collection: 'ref', question: 'How do I declare a route with a JSON schema for the body?', mode: 'retrieve', topK: 3 });
        summary.answered++;
        if (response.status !== 200 || response.body.chunks.length === 0) summary.failures.push(`${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`);
      } catch {
        if (up) summary.unreachableWhileUp++;
        else summary.unreachableWhileDown++;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  })();
  return {
    markDown: () => void (up = false),
    markUp: () => void (up = true),
    async stop() {
      running = false;
      await loop;
      return summary;
    },
  };
}
