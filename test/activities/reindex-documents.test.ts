import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { inTarget, toPoint } from '../../activities/indexing';
import { createReindexActivities } from '../../activities/reindex';
import { loadConfig } from '../../lib/config';
import { chunkDocument } from '../../lib/ingest/chunk';
import { parseDocument } from '../../lib/ingest/parse';
import type { IndexTarget } from '../../lib/ingest/types';
import type { GateReport, ReindexBatchResult } from '../../lib/reindex/types';
import { openPlatform, type Platform } from '../../lib/platform';
import { DeploymentStore } from '../../lib/stores/deployment-store';
import type { RunProgressUpdate } from '../../lib/stores/reindex-run-store';
import { targetOf } from '../../lib/stores/generation-store';
import type { CollectionRecord } from '../../lib/stores/metadata-store';

const TENANT = 't1';

/**
 * An attempt of the batch activity cut short (a killed worker, or a count made wrong by a
 * concurrent delete or replacement) leaves points in the new generation that no record names.
 * The retry must remove them. A run that abandons its target drops the target's index, unless
 * the target went live first. The real stores and model, the activity in Temporal's activity context.
 */
describe('re-index activities: points an interrupted attempt left behind, a target abandoned', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rag-reindex-activity-'));
  let platform: Platform;
  let collection: CollectionRecord;
  let target: IndexTarget;

  before(async () => {
    platform = await openPlatform(loadConfig({ ...process.env, DATA_DIR: dataDir }));
    collection = await platform.metadata.ensureCollection({
      tenantId: TENANT, name: 'docs', embeddingModel: platform.embedder.modelId, dimensions: platform.embedder.dimensions, chunkSizeTokens: 150, chunkOverlapTokens: 20, generation: 1,
    });
    const { to } = await platform.generations.beginBuild(TENANT, 'docs', { embeddingModel: platform.embedder.modelId, dimensions: platform.embedder.dimensions, chunking: { chunkSizeTokens: 40, chunkOverlapTokens: 5 } });
    target = targetOf(to);
    await platform.index.ensureSpace(target.indexName, { dimensions: platform.embedder.dimensions });
  });
  after(async () => {
    await platform?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Registers a version and records it as held by both generations, then activates it. */
  async function uploadVersion(documentId: string, text: string): Promise<number> {
    const bytes = new TextEncoder().encode(text);
    const { sha256 } = await platform.blobs.putRaw(bytes);
    const { version } = await platform.metadata.registerUpload({
      tenantId: TENANT, collection, documentId, sha256, sizeBytes: bytes.length, mediaType: 'text/markdown', filename: documentId, title: null, metadata: {}, workflowIdFor: (v) => `test/${documentId}/v${v}`,
    });
    for (const generation of [1, target.generation]) await platform.generations.recordIndexed({ tenantId: TENANT, collection: 'docs', generation, documentId, version, chunkCount: 1 });
    assert.equal((await platform.metadata.activateVersion({ tenantId: TENANT, collection: 'docs', documentId, version }))?.activeVersion, version);
    return version;
  }

  /** What an attempt had written of a version into the target before it stopped: real chunks, real embeddings. */
  async function writePartially(documentId: string, version: number, text: string, chunks: number): Promise<void> {
    const parsed = await parseDocument(new TextEncoder().encode(text), 'text/markdown');
    const written = (await chunkDocument(parsed, target.chunking, (t) => platform.embedder.countTokens(t), true)).slice(0, chunks);
    const vectors = await platform.embedder.embed(written.map((c) => c.text));
    const source = { tenantId: TENANT, collection: 'docs', documentId, version, title: null, metadata: {} };
    await platform.index.upsert(target.indexName, written.map((chunk, i) => toPoint(target, source, chunk, vectors[i] as number[])));
  }

  it('removes an older version written by an earlier attempt, and every point of a deleted document', async () => {
    const v1Text = `# Routes\n\n${'A route maps a method and a path to a handler. '.repeat(30)}`;
    const replaced = await uploadVersion('routes.md', v1Text);
    // The attempt read version 1 as active and was writing it when version 2 was activated.
    await writePartially('routes.md', replaced, v1Text, 3);
    await uploadVersion('routes.md', `${v1Text}\n\n## Aliases\n\nA route may have a second path.`);
    // The attempt was writing this document when it was deleted.
    const hooksText = `# Hooks\n\n${'Hooks run at points of the request lifecycle. '.repeat(30)}`;
    await writePartially('hooks.md', await uploadVersion('hooks.md', hooksText), hooksText, 2);
    await platform.metadata.tombstoneDocument(TENANT, 'hooks.md', 'delete/test/hooks.md', 1);
    assert.equal(await platform.index.count(target.indexName, inTarget(target, { tenantId: TENANT, collection: 'docs', documentId: 'routes.md', version: replaced })), 3, 'the leftover is there before the retry');

    const activities = createReindexActivities({
      metadata: platform.metadata, generations: platform.generations, runs: platform.reindexRuns, evalSets: platform.evalSets, blobs: platform.blobs,
      index: platform.index, embedders: platform.embedders, embedBatchSize: 8, retainGenerations: 1, cpu: platform.cpu,
    });
    const retry = new MockActivityEnvironment({ attempt: 2 });
    const result: ReindexBatchResult = await retry.run(activities.reindexDocuments, {
      runId: 'rx_test', tenantId: TENANT, collection: 'docs', target, documentIds: ['hooks.md', 'routes.md'], heartbeatTimeoutMs: 10_000,
    });

    assert.deepEqual([result.gone, result.alreadyIndexed, result.indexed, result.failed], [1, 1, 0, 0]);
    assert.equal(await platform.index.count(target.indexName, inTarget(target, { tenantId: TENANT, collection: 'docs', documentId: 'routes.md', version: replaced })), 0, 'the replaced version left the target');
    assert.equal(await platform.index.count(target.indexName, inTarget(target, { tenantId: TENANT, collection: 'docs', documentId: 'hooks.md' })), 0, 'the deleted document left the target');
  });

  it('moves the run\'s progress per document, not per batch', async () => {
    await platform.reindexRuns.create({ id: 'rx_progress', tenantId: TENANT, collection: 'docs', kind: 'reindex', fromGeneration: 1, toGeneration: target.generation, workflowId: 'reindex/test/progress', requestedBy: null });
    const ids = ['a.md', 'b.md', 'c.md'];
    for (const id of ids) {
      const bytes = new TextEncoder().encode(`# ${id}\n\n${`The ${id} page explains one thing at length. `.repeat(12)}`);
      const { sha256 } = await platform.blobs.putRaw(bytes);
      const { version } = await platform.metadata.registerUpload({
        tenantId: TENANT, collection, documentId: id, sha256, sizeBytes: bytes.length, mediaType: 'text/markdown', filename: id, title: null, metadata: {}, workflowIdFor: (v) => `test/${id}/v${v}`,
      });
      // Held by both generations already (a resumed run): the activation needs every serving and building generation to hold it.
      for (const generation of [1, target.generation]) await platform.generations.recordIndexed({ tenantId: TENANT, collection: 'docs', generation, documentId: id, version, chunkCount: 1 });
      await platform.metadata.activateVersion({ tenantId: TENANT, collection: 'docs', documentId: id, version });
    }
    const activities = createReindexActivities({
      metadata: platform.metadata, generations: platform.generations, runs: platform.reindexRuns, evalSets: platform.evalSets, blobs: platform.blobs,
      index: platform.index, embedders: platform.embedders, embedBatchSize: 8, retainGenerations: 1, cpu: platform.cpu,
    });
    const env = new MockActivityEnvironment();
    const seen: Promise<number | undefined>[] = [];
    env.on('heartbeat', (details: { next?: number } | undefined) => {
      if (details?.next !== undefined) seen.push(platform.reindexRuns.get(TENANT, 'docs', 'rx_progress').then((run) => run?.documentsDone));
    });
    const result: ReindexBatchResult = await env.run(activities.reindexDocuments, { runId: 'rx_progress', tenantId: TENANT, collection: 'docs', target, documentIds: ids, heartbeatTimeoutMs: 10_000 });
    assert.equal(result.alreadyIndexed, 3, JSON.stringify(result));
    const counts = [...new Set((await Promise.all(seen)).filter((n): n is number => n !== undefined && n > 0))];
    assert.deepEqual(counts, [1, 2, 3], 'the run record counted each document as it was rebuilt');
    const run = await platform.reindexRuns.get(TENANT, 'docs', 'rx_progress');
    assert.equal(run?.chunks, result.chunks);
  });

  /** A collection with a live generation 1 and a generation 2 being built, and the run's input for it. */
  async function buildingTarget(name: string) {
    await platform.metadata.ensureCollection({
      tenantId: TENANT, name, embeddingModel: platform.embedder.modelId, dimensions: platform.embedder.dimensions, chunkSizeTokens: 150, chunkOverlapTokens: 20, generation: 1,
    });
    const { from, to } = await platform.generations.beginBuild(TENANT, name, { embeddingModel: platform.embedder.modelId, dimensions: platform.embedder.dimensions, chunking: { chunkSizeTokens: 60, chunkOverlapTokens: 5 } });
    const built = targetOf(to);
    await platform.index.ensureSpace(built.indexName, { dimensions: platform.embedder.dimensions });
    const activities = createReindexActivities({
      metadata: platform.metadata, generations: platform.generations, runs: platform.reindexRuns, evalSets: platform.evalSets, blobs: platform.blobs,
      index: platform.index, embedders: platform.embedders, embedBatchSize: 8, retainGenerations: 1, cpu: platform.cpu,
    });
    const input = {
      runId: `rx_${name}`, kind: 'reindex' as const, tenantId: TENANT, collection: name, fromGeneration: from.generation, target: built,
      batchSize: 1, batchesPerRun: 1, heartbeatTimeoutMs: 10_000, gate: { k: 5, recallMargin: 0.05 },
    };
    /** Real chunks of a text, embedded by the real model, written into the target. */
    const write = async (text: string) => {
      const chunks = await chunkDocument(await parseDocument(new TextEncoder().encode(text), 'text/markdown'), built.chunking, (t) => platform.embedder.countTokens(t), true);
      const vectors = await platform.embedder.embed(chunks.map((c) => c.text));
      const source = { tenantId: TENANT, collection: name, documentId: 'doc.md', version: 1, title: null, metadata: {} };
      await platform.index.upsert(built.indexName, chunks.map((chunk, i) => toPoint(built, source, chunk, vectors[i] as number[])));
      return chunks.length;
    };
    const points = () => platform.index.count(built.indexName, inTarget(built, { tenantId: TENANT, collection: name }));
    return { to, input, activities, write, points };
  }

  it('keeps the index of a target that went live before a cancel reached the run', async () => {
    // A cancel used to reach the run while its swap was finishing on the worker: the run dropped
    // the index of the generation that had just gone live.
    const { to, input, activities, write, points } = await buildingTarget('swapped');
    const written = await write(`# Swap\n\n${'The alias moves to the new generation. '.repeat(20)}`);
    const env = new MockActivityEnvironment();
    assert.deepEqual(await env.run(activities.swapTarget, input), { swapped: true, missing: 0 });

    await env.run(activities.abandonTarget, input, 'cancelled' as const);
    assert.equal((await platform.generations.live(TENANT, 'swapped'))?.generation, to.generation, 'the swapped generation stays live');
    assert.equal(await points(), written, 'and keeps every point');
  });

  it('drops the index of a target it abandons, also on a retry after the state was written', async () => {
    const { to, input, activities, write, points } = await buildingTarget('dropped');
    assert.ok((await write('A half-built generation.')) > 0);
    // The first attempt wrote the state and stopped before the points went.
    assert.equal(await platform.generations.abandonBuild(to, 'cancelled', 'reindex'), true);
    await new MockActivityEnvironment({ attempt: 2 }).run(activities.abandonTarget, input, 'cancelled' as const);
    assert.equal(await points(), 0);
  });

  it('keeps a finished run as deployment evidence once: a swap, a rollback, a refused gate', async () => {
    const deployments = new DeploymentStore(platform.db);
    const activities = createReindexActivities({
      metadata: platform.metadata, generations: platform.generations, runs: platform.reindexRuns, evalSets: platform.evalSets, blobs: platform.blobs,
      index: platform.index, embedders: platform.embedders, embedBatchSize: 8, retainGenerations: 1, cpu: platform.cpu,
      evidence: { deployments, platformCommit: 'abc123' },
    });
    const report: GateReport = { passed: true, reasons: [], documents: { expected: 1, present: 1, missing: [], wrongChunkCount: [] }, recall: null };
    const runs: [string, 'reindex' | 'rollback', 'done' | 'gate_failed' | 'cancelled'][] = [['rx_ev_swap', 'reindex', 'done'], ['rx_ev_back', 'rollback', 'done'], ['rx_ev_gate', 'reindex', 'gate_failed'], ['rx_ev_cancel', 'reindex', 'cancelled']];
    const env = new MockActivityEnvironment();
    for (const [id, kind, stage] of runs) {
      await platform.reindexRuns.create({ id, tenantId: TENANT, collection: 'docs', kind, fromGeneration: 1, toGeneration: target.generation, workflowId: `reindex/test/${id}`, requestedBy: 'key_ops' });
      const update: RunProgressUpdate = { stage, report: { ...report, passed: stage === 'done' }, finished: true };
      await env.run(activities.recordRun, id, update);
    }
    // A retried activity whose completion was lost: no second row.
    const again: RunProgressUpdate = { stage: 'done', report, finished: true };
    await env.run(activities.recordRun, 'rx_ev_swap', again);
    const kept = await deployments.list({ kind: 'generation_swap', target: `${TENANT}/docs`, limit: 10 });
    assert.deepEqual(kept.map((d) => [d.workflowId, d.decision]).reverse(), [['reindex/test/rx_ev_swap', 'promoted'], ['reindex/test/rx_ev_back', 'rolled_back'], ['reindex/test/rx_ev_gate', 'refused']], 'a cancelled run moved nothing');
    const swap = await deployments.get(kept.at(-1)!.id);
    assert.deepEqual([swap?.fromVersion, swap?.toVersion, swap?.approvedBy, swap?.platformCommit], ['1', String(target.generation), 'key_ops', 'abc123']);
    assert.match(swap?.configHash ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(swap?.report, report);
  });
});
