import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EmbeddedVectorIndex } from '../../lib/stores/embedded-index';
import { migrate } from '../../lib/stores/migrations';
import { openEmbeddedPostgres, type SqlDatabase } from '../../lib/stores/sql';
import { encodeDocument } from '../../lib/text/sparse';
import { vectorIndexContract } from './vector-index.contract';

const dir = mkdtempSync(join(tmpdir(), 'embedded-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let db: SqlDatabase | undefined;
vectorIndexContract('embedded (PGlite-persisted)', async () => {
  db = await openEmbeddedPostgres(join(dir, 'contract'));
  await migrate(db);
  const index = await EmbeddedVectorIndex.open(db);
  const close = index.close.bind(index);
  index.close = async () => {
    await close();
    await db?.close();
  };
  return index;
});

describe('EmbeddedVectorIndex persistence', () => {
  it('serves the same points after the process reopens its database', async () => {
    const path = join(dir, 'reopen');
    const dense = Array.from({ length: 4 }, (_, i) => i + 1);
    const payload = { tenant_id: 't', collection: 'c', generation: 1, document_id: 'd', version: 1, chunk_index: 0, text: 'durable words', title: null, page_start: 1, page_end: 1, headings: ['H'], metadata: { k: 'v' } };
    let db = await openEmbeddedPostgres(path);
    await migrate(db);
    let index = await EmbeddedVectorIndex.open(db);
    await index.ensureSpace('i', { dimensions: 4 });
    await index.upsert('i', [{ id: 'p1', dense, sparse: encodeDocument(payload.text), payload }]);
    await db.close();

    db = await openEmbeddedPostgres(path);
    index = await EmbeddedVectorIndex.open(db);
    const [hit] = await index.search('i', { dense, filter: { tenantId: 't', collection: 'c', generation: 1 }, limit: 1 });
    assert.deepEqual(hit?.payload, payload);
    assert.ok(Math.abs(hit!.score - 1) < 1e-6);
    const [sparseHit] = await index.search('i', { sparse: encodeDocument('durable'), filter: { tenantId: 't', collection: 'c', generation: 1 }, limit: 1 });
    assert.equal(sparseHit?.id, 'p1');
    await db.close();
  });

  it('refuses a second owner of the same database while the first is alive', async () => {
    const path = join(dir, 'owned');
    const db = await openEmbeddedPostgres(path);
    await assert.rejects(openEmbeddedPostgres(path), /in use by process/);
    await db.close();
  });
});
