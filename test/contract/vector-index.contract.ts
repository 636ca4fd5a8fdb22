import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Embedder } from '../../lib/models/embedder';
import type { ChunkPayload, IndexPoint, VectorIndex } from '../../lib/stores/vector-index';
import { encodeDocument, encodeQuery } from '../../lib/text/sparse';
import { localEmbedder } from '../helpers/embedder';

const CORPUS = [
  { doc: 'refunds', text: 'Customers may return any item within thirty days for a full refund to the original card.', meta: { team: 'support', year: 2024 } },
  { doc: 'refunds', text: 'Refunds for sale items are issued as store credit only.', meta: { team: 'support', year: 2024 } },
  { doc: 'travel', text: 'Employees book flights through the travel portal; economy class for trips under six hours.', meta: { team: 'hr', year: 2023 } },
  { doc: 'travel', text: 'Hotel costs are reimbursed up to the city rate published by finance.', meta: { team: 'hr', year: 2023 } },
  { doc: 'security', text: 'Passwords are rotated every ninety days and must not be reused.', meta: { team: 'it', year: 2024 } },
  { doc: 'security', text: 'Report a lost laptop to the IT service desk immediately, day or night.', meta: { team: 'it', year: 2024 } },
  { doc: 'kernel', text: 'The Zorblax scheduler assigns the zorblax quantum to each runnable thread.', meta: { team: 'it', year: 2022 } },
];

/**
 * One behaviour for every VectorIndex adapter. `open` gives a fresh adapter; each run uses its own
 * index name, so it can run against a shared Qdrant server.
 */
export function vectorIndexContract(name: string, open: () => Promise<VectorIndex>, options: { skip?: string } = {}): void {
  describe(`VectorIndex contract: ${name}`, { skip: options.skip }, () => {
    let index: VectorIndex;
    let embedder: Embedder;
    const indexName = `contract_${randomUUID().slice(0, 8)}`;
    const tenant = 'tenant-a';
    const points: IndexPoint[] = [];

    const payload = (i: number, overrides: Partial<ChunkPayload> = {}): ChunkPayload => ({
      tenant_id: tenant,
      collection: 'policies',
      document_id: CORPUS[i]!.doc,
      version: 1,
      chunk_index: i,
      text: CORPUS[i]!.text,
      title: null,
      page_start: null,
      page_end: null,
      headings: [],
      metadata: CORPUS[i]!.meta,
      ...overrides,
    });
    const query = async (text: string) => ({ dense: (await embedder.embed([text]))[0]!, sparse: encodeQuery(text) });

    before(async () => {
      index = await open();
      embedder = await localEmbedder();
      await index.ensureIndex(indexName, { dimensions: embedder.dimensions });
      const vectors = await embedder.embed(CORPUS.map((c) => c.text));
      CORPUS.forEach((c, i) => points.push({ id: randomUUID(), dense: vectors[i]!, sparse: encodeDocument(c.text), payload: payload(i) }));
      // The same texts under another tenant: must never leak into tenant-a's results.
      const foreign = CORPUS.map((c, i) => ({ id: randomUUID(), dense: vectors[i]!, sparse: encodeDocument(c.text), payload: payload(i, { tenant_id: 'tenant-b' }) }));
      await index.upsert(indexName, [...points, ...foreign]);
    });

    after(async () => {
      await index.dropIndex(indexName);
      await index.close();
      await embedder.close();
    });

    it('is idempotent to create and refuses a different dimension', async () => {
      await index.ensureIndex(indexName, { dimensions: embedder.dimensions });
      await assert.rejects(index.ensureIndex(indexName, { dimensions: 8 }));
    });

    it('counts by tenant, collection, document and version', async () => {
      assert.equal(await index.count(indexName, { tenantId: tenant }), CORPUS.length);
      assert.equal(await index.count(indexName, { tenantId: 'tenant-b' }), CORPUS.length);
      assert.equal(await index.count(indexName, { tenantId: tenant, documentId: 'travel' }), 2);
      assert.equal(await index.count(indexName, { tenantId: tenant, collection: 'other' }), 0);
      assert.equal(await index.count(indexName, { tenantId: 'nobody' }), 0);
      assert.equal(await index.count(`missing_${indexName}`, { tenantId: tenant }), 0);
    });

    it('overwrites on upsert of the same id instead of duplicating', async () => {
      const first = points[0]!;
      await index.upsert(indexName, [{ ...first, payload: { ...first.payload, title: 'Returns policy' } }]);
      assert.equal(await index.count(indexName, { tenantId: tenant }), CORPUS.length);
      const [hit] = await index.search(indexName, { dense: first.dense, filter: { tenantId: tenant }, limit: 1 });
      assert.equal(hit?.id, first.id);
      assert.equal(hit?.payload.title, 'Returns policy');
    });

    it('ranks by meaning with dense vectors, scoped to the tenant', async () => {
      const hits = await index.search(indexName, { dense: (await query('I lost my work computer')).dense, filter: { tenantId: tenant }, limit: 3 });
      assert.equal(hits[0]?.payload.text, CORPUS[5]!.text);
      assert.ok(hits.every((h) => h.payload.tenant_id === tenant));
      assert.ok(hits[0]!.score > hits[1]!.score && hits[0]!.score <= 1.0001, 'cosine scores, best first');
    });

    it('ranks by BM25 with sparse vectors, returning only documents that share a term', async () => {
      const hits = await index.search(indexName, { sparse: encodeQuery('zorblax quantum'), filter: { tenantId: tenant }, limit: 5 });
      assert.deepEqual(hits.map((h) => h.payload.text), [CORPUS[6]!.text]);
      const refund = await index.search(indexName, { sparse: encodeQuery('refund store credit'), filter: { tenantId: tenant }, limit: 5 });
      assert.equal(refund[0]?.payload.text, CORPUS[1]!.text, 'the chunk matching more and rarer terms wins');
      assert.ok(refund.every((h) => h.payload.document_id === 'refunds'));
    });

    it('fuses dense and sparse with RRF, so agreement ranks first', async () => {
      const q = await query('how often must passwords be rotated');
      const hits = await index.search(indexName, { ...q, filter: { tenantId: tenant }, limit: 4 });
      assert.equal(hits.length, 4);
      assert.equal(hits[0]?.payload.text, CORPUS[4]!.text);
      assert.ok(hits[0]!.score < 1 / 30, 'RRF scores, not cosine');
      assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1]!.score));
    });

    it('filters by user metadata, single values and any-of lists', async () => {
      const q = await query('refund policy');
      const hr = await index.search(indexName, { ...q, filter: { tenantId: tenant, metadata: { team: 'hr' } }, limit: 10 });
      assert.deepEqual(new Set(hr.map((h) => h.payload.document_id)), new Set(['travel']));
      const years = await index.search(indexName, { dense: q.dense, filter: { tenantId: tenant, metadata: { year: [2022, 2023] } }, limit: 10 });
      assert.deepEqual(new Set(years.map((h) => h.payload.document_id)), new Set(['travel', 'kernel']));
    });

    it('deletes older versions of one document only', async () => {
      const v2 = { ...points[2]!, id: randomUUID(), payload: { ...points[2]!.payload, version: 2 } };
      await index.upsert(indexName, [v2]);
      await index.deletePoints(indexName, { tenantId: tenant, collection: 'policies', documentId: 'travel', versionBelow: 2 });
      assert.equal(await index.count(indexName, { tenantId: tenant, documentId: 'travel' }), 1);
      assert.equal(await index.count(indexName, { tenantId: tenant, documentId: 'travel', version: 2 }), 1);
      assert.equal(await index.count(indexName, { tenantId: 'tenant-b', documentId: 'travel' }), 2, 'other tenants untouched');
      assert.equal(await index.count(indexName, { tenantId: tenant }), CORPUS.length - 1);
    });

    it('reads, writes and swaps through an alias, which goes with its index', async () => {
      const alias = `${indexName}_live`;
      const next = `${indexName}_next`;
      assert.equal(await index.resolveAlias(alias), null);
      assert.deepEqual(await index.search(alias, { dense: points[0]!.dense, filter: { tenantId: tenant }, limit: 1 }), [], 'a missing alias has no hits');
      await index.setAlias(alias, indexName);
      assert.equal(await index.resolveAlias(alias), indexName);
      assert.equal(await index.count(alias, { tenantId: tenant }), await index.count(indexName, { tenantId: tenant }));
      const [hit] = await index.search(alias, { dense: points[4]!.dense, filter: { tenantId: tenant }, limit: 1 });
      assert.equal(hit?.id, points[4]!.id);

      await index.ensureIndex(next, { dimensions: embedder.dimensions });
      try {
        const moved = { ...points[4]!, id: randomUUID() };
        await index.upsert(next, [moved]);
        await index.setAlias(alias, next);
        assert.equal(await index.resolveAlias(alias), next, 'the alias moved in one step');
        assert.equal(await index.count(alias, { tenantId: tenant }), 1);
        await index.upsert(alias, [{ ...points[5]!, id: randomUUID() }]);
        assert.equal(await index.count(next, { tenantId: tenant }), 2, 'writes through the alias land in its index');
        await index.deletePoints(alias, { tenantId: tenant, documentId: 'security' });
        assert.equal(await index.count(next, { tenantId: tenant }), 0);
        assert.equal(await index.count(indexName, { tenantId: tenant, documentId: 'security' }), 2, 'the old index is untouched');
      } finally {
        await index.dropIndex(next);
      }
      assert.equal(await index.resolveAlias(alias), null, 'dropping an index removes its aliases');
      await index.setAlias(alias, indexName);
      await index.deleteAlias(alias);
      assert.equal(await index.resolveAlias(alias), null);
      await assert.rejects(index.setAlias(alias, `${indexName}_missing`), 'an alias needs an existing index');
    });
  });
}
