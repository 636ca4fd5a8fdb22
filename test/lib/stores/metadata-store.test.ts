import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PlatformError } from '../../../lib/errors';
import { GenerationStore } from '../../../lib/stores/generation-store';
import { MetadataStore, type CollectionRecord, type NewUpload } from '../../../lib/stores/metadata-store';
import { migrate } from '../../../lib/stores/migrations';
import { openEmbeddedPostgres, openPostgres, type SqlDatabase } from '../../../lib/stores/sql';
import { postgresBinDir, startTemporaryPostgres } from '../../helpers/postgres';

/** One behaviour on both SQL backends: the same statements run on PGlite and on PostgreSQL. */
function metadataStoreSuite(name: string, open: () => Promise<{ db: SqlDatabase; cleanup(): Promise<void> }>, skip?: string) {
describe(`MetadataStore (${name})`, { skip }, () => {
  let cleanup: () => Promise<void>;
  let db: SqlDatabase;
  let store: MetadataStore;
  let generations: GenerationStore;
  let collection: CollectionRecord;
  const upload = (documentId: string, sha256: string): NewUpload => ({
    tenantId: 't1', collection, documentId, sha256, sizeBytes: 10, mediaType: 'text/plain', filename: 'a.txt', title: null, metadata: { k: 'v' }, workflowIdFor: (version) => `ingest/t1/${documentId}/v${version}`,
  });

  before(async () => {
    ({ db, cleanup } = await open());
    await migrate(db);
    await migrate(db); // twice: migrations are idempotent
    store = new MetadataStore(db);
    generations = new GenerationStore(db);
    collection = await store.ensureCollection({ tenantId: 't1', name: 'docs', embeddingModel: 'm', dimensions: 3, chunkSizeTokens: 100, chunkOverlapTokens: 10, generation: 1 });
  });
  after(async () => {
    await db?.close();
    await cleanup?.();
  });

  it('gives changed bytes the next version and identical bytes the same one', async () => {
    const first = await store.registerUpload(upload('d1', 'aaa'));
    assert.deepEqual([first.version, first.duplicate, first.startRun], [1, false, true]);
    const again = await store.registerUpload(upload('d1', 'aaa'));
    assert.deepEqual([again.version, again.duplicate, again.startRun], [1, true, true], 'still queued: starting again is allowed (idempotent)');
    await store.setStage({ tenantId: 't1', collection: 'docs', documentId: 'd1', version: 1 }, 'embedding');
    const inFlight = await store.registerUpload(upload('d1', 'aaa'));
    assert.deepEqual([inFlight.version, inFlight.startRun], [1, false]);
    const second = await store.registerUpload(upload('d1', 'bbb'));
    assert.equal(second.version, 2);
    assert.equal(second.workflowId, 'ingest/t1/d1/v2', 'the run is named by its version');
  });

  it('makes the bytes of an older version a new version: what was uploaded last is what serves', async () => {
    const a = await store.registerUpload(upload('aba', 'AAA'));
    const b = await store.registerUpload(upload('aba', 'BBB'));
    const again = await store.registerUpload(upload('aba', 'AAA'));
    assert.deepEqual([a.version, b.version, again.version, again.duplicate], [1, 2, 3, false]);
  });

  it('tombstones a deleted document: gone for readers, its versions never reused or activated again', async () => {
    const ref = (version: number) => ({ tenantId: 't1', collection: 'docs', documentId: 'gone', version });
    await store.registerUpload(upload('gone', 'G1'));
    await generations.recordIndexed({ ...ref(1), generation: 1, chunkCount: 2 });
    assert.equal((await store.activateVersion(ref(1)))?.activeVersion, 1);
    await store.registerUpload(upload('gone', 'G2'));
    const tombstone = await store.tombstoneDocument('t1', 'gone', 'delete/t1/gone/v2', 2);
    assert.deepEqual([tombstone?.throughVersion, tombstone?.workflowId, tombstone?.versions.map((v) => v.version)], [2, 'delete/t1/gone/v2', [2, 1]]);
    assert.equal((await store.tombstoneDocument('t1', 'gone', 'delete/t1/gone/v9', 2))?.workflowId, 'delete/t1/gone/v2', 'idempotent: the first deletion stands');
    assert.equal(await store.getDocument('t1', 'gone'), null);
    assert.equal((await store.activeVersions('t1', ['gone'])).size, 0);
    assert.equal(await generations.recordIndexed({ ...ref(2), generation: 1, chunkCount: 2 }), false, 'a version the deletion covers cannot be recorded');
    assert.equal(await store.activateVersion(ref(2)), null, '… nor activated');

    // Uploaded again with the very same bytes before the deletion finished: a newer version.
    const back = await store.registerUpload(upload('gone', 'G2'));
    assert.deepEqual([back.version, back.duplicate, back.workflowId], [3, false, 'ingest/t1/gone/v3']);
    await store.tombstoneDocument('t1', 'gone', 'delete/t1/gone/v2', 2);
    assert.ok(await store.getDocument('t1', 'gone'), 'the deletion run repeating its first step does not delete the document that came back');
    assert.equal(await store.activateVersion(ref(2)), null, 'the deleted versions stay deleted after the document came back');
    assert.deepEqual((await store.purgeVersions('t1', 'gone', 2)).sort(), ['G1', 'G2']);
    assert.deepEqual((await store.getDocument('t1', 'gone'))?.versions.map((v) => v.version), [3], 'the new version survives the purge of the old ones');
    assert.equal(await store.isBlobReferenced('G2'), true, 'its bytes are still referenced by the new version');
    assert.equal(await store.isBlobReferenced('G1'), false);
  });

  it('allocates distinct versions to concurrent uploads of one document', async () => {
    const results = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((sha) => store.registerUpload(upload('d2', sha))));
    assert.deepEqual(results.map((r) => r.version).sort(), [1, 2, 3, 4]);
  });

  it('only moves the active version forward, once every serving generation holds it', async () => {
    const ref = (version: number) => ({ tenantId: 't1', collection: 'docs', documentId: 'd2', version });
    const held = (version: number, generation = 1) => generations.recordIndexed({ ...ref(version), generation, chunkCount: 5 });
    assert.deepEqual(await store.activateVersion(ref(3)), { activeVersion: null, superseded: false, missingGenerations: [1] }, 'not indexed yet: nothing changes');
    await held(3);
    assert.deepEqual(await store.activateVersion(ref(3)), { activeVersion: 3, superseded: false, missingGenerations: [] });
    assert.deepEqual(await store.activateVersion(ref(2)), { activeVersion: 3, superseded: true, missingGenerations: [] }, 'an older run finishing late is superseded');

    // A re-index began: version 4 must reach generation 2 as well before it can serve.
    const { to } = await generations.beginBuild('t1', 'docs', { embeddingModel: 'm', dimensions: 3, chunking: { chunkSizeTokens: 50, chunkOverlapTokens: 5 } });
    assert.equal(to.generation, 2);
    await held(4);
    assert.deepEqual((await store.activateVersion(ref(4)))?.missingGenerations, [2]);
    await held(4, 2);
    assert.deepEqual(await store.activateVersion(ref(4)), { activeVersion: 4, superseded: false, missingGenerations: [] });
    assert.equal(await generations.heldChunks({ ...ref(3), generation: 1 }), null, 'older versions leave every generation');
    const doc = await store.getDocument('t1', 'd2');
    assert.equal(doc?.activeVersion, 4);
    assert.deepEqual(doc?.versions.map((v) => [v.version, v.stage]), [[4, 'ready'], [3, 'superseded'], [2, 'superseded'], [1, 'queued']]);
    await generations.abandonBuild(to, 'cancelled', 'reindex');
  });

  it('builds, swaps, retains, rolls back and drops generations', async () => {
    const settings = { embeddingModel: 'm2', dimensions: 3, chunking: { chunkSizeTokens: 60, chunkOverlapTokens: 6 } };
    const { from, to } = await generations.beginBuild('t1', 'docs', settings);
    assert.deepEqual([from.generation, to.generation, to.state], [1, 3, 'building'], 'numbers are never reused: 2 was cancelled');
    await assert.rejects(generations.beginBuild('t1', 'docs', settings), (e) => PlatformError.isInstance(e) && e.code === 'reindex_in_progress');
    assert.deepEqual((await generations.writeTargets('t1', 'docs')).map((t) => [t.generation, t.indexName, t.shared]), [[1, 'chunks_m_3', true], [3, 'chunks_m2_3', true]], 'each generation writes into its model\'s shared space');

    assert.deepEqual(await generations.swap(to, 1), { swapped: false, missing: 1 }, 'd2 v4 is not in generation 3 yet');
    assert.deepEqual(await generations.missingFrom('t1', 'docs', 3), [{ documentId: 'd2', version: 4 }]);
    await generations.recordIndexed({ tenantId: 't1', collection: 'docs', generation: 3, documentId: 'd2', version: 4, chunkCount: 9 });
    const swap = await generations.swap(to, 1);
    assert.equal(swap.swapped, true);
    const live = await store.getCollection('t1', 'docs');
    assert.deepEqual([live?.generation, live?.embeddingModel, live?.chunkSizeTokens], [3, 'm2', 60], 'the collection mirrors its live generation');
    assert.deepEqual((await generations.list('t1', 'docs')).map((g) => [g.generation, g.state]), [[1, 'retained'], [2, 'cancelled'], [3, 'live']]);

    const rollback = await generations.beginRollback('t1', 'docs');
    assert.deepEqual([rollback.from.generation, rollback.to.generation], [3, 1]);
    assert.deepEqual((await generations.writeTargets('t1', 'docs')).map((t) => t.generation), [3, 1], 'uploads reach the generation being rolled back to');
    assert.equal((await generations.swap(rollback.to, 1)).swapped, true, 'generation 1 held d2 v4 since its upload');
    assert.deepEqual((await generations.list('t1', 'docs')).map((g) => [g.generation, g.state]), [[1, 'live'], [2, 'cancelled'], [3, 'retained']]);

    const next = await generations.beginBuild('t1', 'docs', settings);
    await generations.recordIndexed({ tenantId: 't1', collection: 'docs', generation: 4, documentId: 'd2', version: 4, chunkCount: 9 });
    const dropping = await generations.swap(next.to, 1);
    assert.ok(dropping.swapped);
    assert.deepEqual(dropping.dropped.map((g) => g.generation), [3], 'only the newest retained generation is kept');
    assert.deepEqual((await generations.list('t1', 'docs')).map((g) => [g.generation, g.state]), [[1, 'retained'], [2, 'cancelled'], [3, 'dropped'], [4, 'live']]);
    await assert.rejects(generations.beginRollback('t2', 'docs'), (e) => PlatformError.isInstance(e) && e.statusCode === 404, 'scoped by tenant');
  });

  it('lets a failed version be retried with the same bytes', async () => {
    await store.registerUpload(upload('d3', 'fff'));
    await store.markFailed({ tenantId: 't1', collection: 'docs', documentId: 'd3', version: 1 }, 'pdf_corrupt', 'broken');
    assert.deepEqual((await store.getDocument('t1', 'd3'))?.versions[0]?.error, { code: 'pdf_corrupt', message: 'broken' });
    const retry = await store.registerUpload(upload('d3', 'fff'));
    assert.deepEqual([retry.version, retry.stage, retry.startRun], [1, 'queued', true]);
    assert.equal((await store.getDocument('t1', 'd3'))?.versions[0]?.error, null);
  });

  it('keeps a document in the collection it was created in', async () => {
    const other = await store.ensureCollection({ ...collection, name: 'other' });
    await assert.rejects(store.registerUpload({ ...upload('d1', 'zzz'), collection: other }), (e) => PlatformError.isInstance(e) && e.statusCode === 409);
  });

  it('scopes by tenant, lists by id with a cursor, and deletes with all versions', async () => {
    assert.equal(await store.getDocument('t2', 'd1'), null);
    const page1 = await store.listDocuments('t1', 'docs', { limit: 3 });
    const page2 = await store.listDocuments('t1', 'docs', { limit: 3, after: page1[2]!.documentId });
    assert.deepEqual([...page1, ...page2].map((d) => d.documentId), ['aba', 'd1', 'd2', 'd3', 'gone']);
    const removed = await store.tombstoneDocument('t1', 'd2', 'delete/t1/d2/v4', 4);
    assert.equal(removed?.versions.length, 4);
    assert.ok(!(await store.listDocuments('t1', 'docs', { limit: 10 })).some((d) => d.documentId === 'd2'), 'a deleted document is not listed');
    await store.purgeVersions('t1', 'd2', 4);
    assert.equal(await generations.heldChunks({ tenantId: 't1', collection: 'docs', generation: 4, documentId: 'd2', version: 4 }), null, 'a deleted document leaves every generation');
    assert.equal(await generations.recordIndexed({ tenantId: 't1', collection: 'docs', generation: 4, documentId: 'd2', version: 4, chunkCount: 1 }), false, 'and cannot be recorded again');
    assert.equal(await store.getDocument('t1', 'd2'), null);
    assert.equal(await store.setStage({ tenantId: 't1', collection: 'docs', documentId: 'd2', version: 4 }, 'ready'), false, 'a run of a deleted document learns it is gone');
    assert.equal(await store.activateVersion({ tenantId: 't1', collection: 'docs', documentId: 'd2', version: 4 }), null);
  });
});
}

metadataStoreSuite('embedded PGlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'metadata-'));
  return { db: await openEmbeddedPostgres(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

metadataStoreSuite(
  'PostgreSQL server',
  async () => {
    const server = await startTemporaryPostgres();
    return { db: await openPostgres(server.url), cleanup: () => server.stop() };
  },
  postgresBinDir() ? undefined : 'no PostgreSQL server installed (scripts/setup.sh installs Debian\'s as root)',
);
