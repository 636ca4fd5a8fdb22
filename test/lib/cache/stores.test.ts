import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqlCacheStore } from '../../../lib/cache/sql-cache-store';
import { CollectionStore } from '../../../lib/stores/collection-store';
import { GenerationStore } from '../../../lib/stores/generation-store';
import { MetadataStore, type CollectionRecord } from '../../../lib/stores/metadata-store';
import { migrate } from '../../../lib/stores/migrations';
import { openEmbeddedPostgres, type SqlDatabase } from '../../../lib/stores/sql';

const TENANT = 't1';

/** The content version the answer cache is keyed by, and the database store's bounds (PGlite). */
describe('cache keys and the database store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cache-stores-'));
  let db: SqlDatabase;
  let metadata: MetadataStore;
  let collections: CollectionStore;
  let docs: CollectionRecord;
  const version = async (name: string) => (await collections.admission(TENANT, name))?.contentVersion;

  before(async () => {
    db = await openEmbeddedPostgres(dir);
    await migrate(db);
    metadata = new MetadataStore(db);
    collections = new CollectionStore(db);
    const defaults = { tenantId: TENANT, embeddingModel: 'm', dimensions: 3, chunkSizeTokens: 100, chunkOverlapTokens: 10, generation: 1 };
    docs = await metadata.ensureCollection({ ...defaults, name: 'docs' });
    await metadata.ensureCollection({ ...defaults, name: 'other' });
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('changes the content version with an activation and a deletion, and only in that collection', async () => {
    const other = await version('other');
    const before = await version('docs');
    const { version: v } = await metadata.registerUpload({
      tenantId: TENANT, collection: docs, documentId: 'a.md', sha256: 'a'.repeat(64), sizeBytes: 1, mediaType: 'text/markdown', filename: 'a.md', title: null, metadata: {}, workflowIdFor: (n) => `test/a/v${n}`,
    });
    assert.equal(await version('docs'), before, 'an upload that is not active yet changes nothing served');
    await new GenerationStore(db).recordIndexed({ tenantId: TENANT, collection: 'docs', generation: 1, documentId: 'a.md', version: v, chunkCount: 1 });
    await metadata.activateVersion({ tenantId: TENANT, collection: 'docs', documentId: 'a.md', version: v });
    const activated = await version('docs');
    assert.notEqual(activated, before);
    await metadata.tombstoneDocument(TENANT, 'a.md', 'delete/test/a.md', v);
    assert.notEqual(await version('docs'), activated);
    assert.equal(await version('other'), other);
  });

  it('changes it when another generation goes live', async () => {
    const generations = new GenerationStore(db);
    const { to } = await generations.beginBuild(TENANT, 'docs', { embeddingModel: 'm', dimensions: 3, chunking: { chunkSizeTokens: 50, chunkOverlapTokens: 5 } });
    const before = await version('docs');
    assert.equal((await generations.swap(to, 1)).swapped, true);
    assert.notEqual(await version('docs'), before);
  });

  it('keeps at most the configured number of answers, oldest out first', async () => {
    const store = new SqlCacheStore(db, { maxAnswers: 3, maxVectors: 10, vectorTtlSeconds: 60, sweepEvery: 1 });
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      await store.putAnswer('scope', { questionHash: `q${i}`, question: `question ${i}`, vector: i === 2 ? null : Float32Array.from([i, 1, 0]), answer: { i }, createdAt: started + i * 1000 }, 60);
    }
    const kept = await db.query<{ question_hash: string }>('select question_hash from answer_cache order by question_hash');
    assert.deepEqual(kept.map((row) => row.question_hash), ['q2', 'q3', 'q4']);
    assert.deepEqual((await store.getAnswer('scope', 'q4'))?.answer, { i: 4 });
    assert.equal(await store.getAnswer('scope', 'q0'), null);
    assert.deepEqual((await store.recentQuestions('scope', 5)).map((q) => q.questionHash), ['q4', 'q3'], 'newest first, only entries with a vector');
  });

  it('does not serve an answer past its TTL', async () => {
    const store = new SqlCacheStore(db, { maxAnswers: 100, maxVectors: 10, vectorTtlSeconds: 60 });
    await store.putAnswer('ttl', { questionHash: 'old', question: 'old question', vector: null, answer: 1, createdAt: Date.now() }, 1);
    assert.equal((await store.getAnswer('ttl', 'old'))?.answer, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await store.getAnswer('ttl', 'old'), null);
  });

  it('round-trips vectors by model and text hash', async () => {
    const store = new SqlCacheStore(db, { maxAnswers: 3, maxVectors: 10, vectorTtlSeconds: 60 });
    await store.putVectors('m', new Map([['h1', Float32Array.from([0.25, -1, 3.5])]]));
    const found = await store.getVectors('m', ['h1', 'h2']);
    assert.deepEqual([...found.keys()], ['h1']);
    assert.deepEqual(Array.from(found.get('h1') as Float32Array), [0.25, -1, 3.5]);
    assert.equal((await store.getVectors('other-model', ['h1'])).size, 0);
  });
});
