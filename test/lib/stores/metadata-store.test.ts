import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PlatformError } from '../../../lib/errors';
import { MetadataStore, migrate, type CollectionRecord, type NewUpload } from '../../../lib/stores/metadata-store';
import { openEmbeddedPostgres, openPostgres, type SqlDatabase } from '../../../lib/stores/sql';
import { postgresBinDir, startTemporaryPostgres } from '../../helpers/postgres';

/** One behaviour on both SQL backends: the same statements run on PGlite and on PostgreSQL. */
function metadataStoreSuite(name: string, open: () => Promise<{ db: SqlDatabase; cleanup(): Promise<void> }>, skip?: string) {
describe(`MetadataStore (${name})`, { skip }, () => {
  let cleanup: () => Promise<void>;
  let db: SqlDatabase;
  let store: MetadataStore;
  let collection: CollectionRecord;
  const upload = (documentId: string, sha256: string): NewUpload => ({
    tenantId: 't1', collection, documentId, sha256, sizeBytes: 10, mediaType: 'text/plain', filename: 'a.txt', title: null, metadata: { k: 'v' }, workflowId: `ingest/t1/${documentId}/${sha256}`,
  });

  before(async () => {
    ({ db, cleanup } = await open());
    await migrate(db);
    await migrate(db); // twice: migrations are idempotent
    store = new MetadataStore(db);
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
  });

  it('allocates distinct versions to concurrent uploads of one document', async () => {
    const results = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((sha) => store.registerUpload(upload('d2', sha))));
    assert.deepEqual(results.map((r) => r.version).sort(), [1, 2, 3, 4]);
  });

  it('only moves the active version forward', async () => {
    const ref = (version: number) => ({ tenantId: 't1', collection: 'docs', documentId: 'd2', version });
    assert.deepEqual(await store.activateVersion(ref(3)), { activeVersion: 3, superseded: false });
    assert.deepEqual(await store.activateVersion(ref(2)), { activeVersion: 3, superseded: true }, 'an older run finishing late is superseded');
    assert.deepEqual(await store.activateVersion(ref(4)), { activeVersion: 4, superseded: false });
    const doc = await store.getDocument('t1', 'd2');
    assert.equal(doc?.activeVersion, 4);
    assert.deepEqual(doc?.versions.map((v) => [v.version, v.stage]), [[4, 'ready'], [3, 'superseded'], [2, 'superseded'], [1, 'queued']]);
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
    const page1 = await store.listDocuments('t1', 'docs', { limit: 2 });
    const page2 = await store.listDocuments('t1', 'docs', { limit: 2, after: page1[1]!.documentId });
    assert.deepEqual([...page1, ...page2].map((d) => d.documentId), ['d1', 'd2', 'd3']);
    const removed = await store.deleteDocument('t1', 'd2');
    assert.equal(removed?.versions.length, 4);
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
