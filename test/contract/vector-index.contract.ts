import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Embedder } from '../../lib/models/embedder';
import { RRF_K, type ChunkPayload, type IndexPoint, type SearchFilter, type VectorIndex } from '../../lib/stores/vector-index';
import { encodeDocument, encodeQuery } from '../../lib/text/sparse';
import { localEmbedder } from '../helpers/embedder';

const CORPUS = [
  { doc: 'refunds', text: 'Customers may return any item within thirty days for a full refund to the original card.', meta: { team: 'support', year: 2024, 'region.code': 'eu', score: 0.5, public: true, tags: ['money', 'returns'] } },
  { doc: 'refunds', text: 'Refunds for sale items are issued as store credit only.', meta: { team: 'support', year: 2024, 'region.code': 'eu', score: 0.5, public: true, tags: ['money'] } },
  { doc: 'travel', text: 'Employees book flights through the travel portal; economy class for trips under six hours.', meta: { team: 'hr', year: 2023, 'region.code': 'us', score: 1.25, public: false, tags: ['trips'] } },
  { doc: 'travel', text: 'Hotel costs are reimbursed up to the city rate published by finance.', meta: { team: 'hr', year: 2023, 'region.code': 'us', score: 1.25, public: false, tags: ['trips', 'money'] } },
  { doc: 'security', text: 'Passwords are rotated every ninety days and must not be reused.', meta: { team: 'it', year: 2024, 'region.code': 'eu', score: 2, public: true, tags: [] } },
  { doc: 'security', text: 'Report a lost laptop to the IT service desk immediately, day or night.', meta: { team: 'it', year: 2024, 'region.code': 'eu', score: 2, public: true, tags: [] } },
  { doc: 'kernel', text: 'The Zorblax scheduler assigns the zorblax quantum to each runnable thread.', meta: { team: 'it', year: 2022, 'region.code': 'apac', score: 3.75, public: false, tags: ['code'] } },
];

/**
 * One behaviour for every VectorIndex adapter. `open` gives a fresh adapter; each run uses a space
 * of its own, so it can run against a shared Qdrant server. The space is shared the way
 * production shares it: two tenants with the same collection name and the same document ids,
 * and two generations of one collection.
 */
export function vectorIndexContract(name: string, open: () => Promise<VectorIndex>, options: { skip?: string } = {}): void {
  describe(`VectorIndex contract: ${name}`, { skip: options.skip }, () => {
    let index: VectorIndex;
    let embedder: Embedder;
    const space = `contract_${randomUUID().slice(0, 8)}`;
    const tenant = 'tenant-a';
    const points: IndexPoint[] = [];
    let vectors: number[][] = [];
    const scope: SearchFilter = { tenantId: tenant, collection: 'policies', generation: 1 };

    const payload = (i: number, overrides: Partial<ChunkPayload> = {}): ChunkPayload => ({
      tenant_id: tenant,
      collection: 'policies',
      generation: 1,
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
    const point = (i: number, overrides: Partial<ChunkPayload> = {}): IndexPoint => ({ id: randomUUID(), dense: vectors[i]!, sparse: encodeDocument(CORPUS[i]!.text), payload: payload(i, overrides) });
    const query = async (text: string) => ({ dense: (await embedder.embed([text]))[0]!, sparse: encodeQuery(text) });
    const docs = (hits: { payload: ChunkPayload }[]) => new Set(hits.map((h) => h.payload.document_id));

    before(async () => {
      index = await open();
      embedder = await localEmbedder();
      await index.ensureSpace(space, { dimensions: embedder.dimensions });
      vectors = await embedder.embed(CORPUS.map((c) => c.text));
      CORPUS.forEach((_, i) => points.push(point(i)));
      // The same collection name and document ids under another tenant, and the next generation
      // of tenant-a's collection: neither may leak into the other's results.
      const foreign = CORPUS.map((_, i) => point(i, { tenant_id: 'tenant-b' }));
      const nextGeneration = CORPUS.map((_, i) => point(i, { generation: 2 }));
      await index.upsert(space, [...points, ...foreign, ...nextGeneration]);
    });

    after(async () => {
      await index.dropSpace(space);
      await index.close();
      await embedder.close();
    });

    it('is idempotent to create, refuses a different dimension, and lists its spaces', async () => {
      await index.ensureSpace(space, { dimensions: embedder.dimensions });
      await assert.rejects(index.ensureSpace(space, { dimensions: 8 }));
      await index.ensureFilterable(space, { team: 'keyword', year: 'integer', 'region.code': 'keyword', score: 'float', public: 'bool' });
      await index.ensureFilterable(space, { team: 'keyword' });
      assert.ok((await index.spaces()).includes(space));
    });

    it('counts by tenant, collection, generation, document and version', async () => {
      assert.equal(await index.count(space, { tenantId: tenant }), 2 * CORPUS.length);
      assert.equal(await index.count(space, { tenantId: tenant, collection: 'policies', generation: 1 }), CORPUS.length);
      assert.equal(await index.count(space, { tenantId: 'tenant-b' }), CORPUS.length);
      assert.equal(await index.count(space, { ...scope, documentId: 'travel' }), 2);
      assert.equal(await index.count(space, { tenantId: tenant, collection: 'other' }), 0);
      assert.equal(await index.count(space, { tenantId: 'nobody' }), 0);
      assert.equal(await index.count(`missing_${space}`, { tenantId: tenant }), 0);
    });

    it('overwrites on upsert of the same id instead of duplicating', async () => {
      const first = points[0]!;
      await index.upsert(space, [{ ...first, payload: { ...first.payload, title: 'Returns policy' } }]);
      assert.equal(await index.count(space, scope), CORPUS.length);
      const [hit] = await index.search(space, { dense: first.dense, filter: scope, limit: 1 });
      assert.equal(hit?.id, first.id);
      assert.equal(hit?.payload.title, 'Returns policy');
    });

    it('ranks by meaning with dense vectors, scoped to the tenant and the generation', async () => {
      const hits = await index.search(space, { dense: (await query('I lost my work computer')).dense, filter: scope, limit: 3 });
      assert.equal(hits[0]?.payload.text, CORPUS[5]!.text);
      assert.ok(hits.every((h) => h.payload.tenant_id === tenant && h.payload.generation === 1));
      assert.ok(hits[0]!.score > hits[1]!.score && hits[0]!.score <= 1.0001, 'cosine scores, best first');
      const other = await index.search(space, { dense: points[0]!.dense, filter: { ...scope, generation: 2 }, limit: 20 });
      assert.equal(other.length, CORPUS.length);
      assert.ok(other.every((h) => h.payload.generation === 2));
      assert.deepEqual(await index.search(space, { dense: points[0]!.dense, filter: { ...scope, generation: 3 }, limit: 5 }), [], 'no such generation, no hits');
    });

    it('ranks by BM25 with sparse vectors, returning only documents that share a term', async () => {
      const hits = await index.search(space, { sparse: encodeQuery('zorblax quantum'), filter: scope, limit: 5 });
      assert.deepEqual(hits.map((h) => h.payload.text), [CORPUS[6]!.text]);
      const refund = await index.search(space, { sparse: encodeQuery('refund store credit'), filter: scope, limit: 5 });
      assert.equal(refund[0]?.payload.text, CORPUS[1]!.text, 'the chunk matching more and rarer terms wins');
      assert.ok(refund.every((h) => h.payload.document_id === 'refunds'));
    });

    it("scores BM25 with the searched collection generation's statistics: another tenant's corpus changes nothing", async () => {
      const probe = { sparse: encodeQuery('passwords rotated scheduler'), filter: scope, limit: 5 };
      const before = await index.search(space, probe);
      // Tenant b fills its collection with the probe's terms: in a collection-wide IDF they would become common.
      const flood = Array.from({ length: 40 }, (_, i) => ({ ...point(4, { tenant_id: 'tenant-b', document_id: `flood-${i}` }), sparse: encodeDocument('passwords rotated scheduler passwords') }));
      await index.upsert(space, flood);
      try {
        const after = await index.search(space, probe);
        assert.deepEqual(after.map((h) => h.id), before.map((h) => h.id));
        after.forEach((hit, i) => assert.ok(Math.abs(hit.score - before[i]!.score) < 1e-4, `score ${hit.score} was ${before[i]!.score}`));
      } finally {
        await index.deletePoints(space, { tenantId: 'tenant-b' });
        await index.upsert(space, CORPUS.map((_, i) => point(i, { tenant_id: 'tenant-b' })));
      }
    });

    it('fuses dense and sparse with RRF, 1 / (k + rank) from rank 0: first in both lists scores 2 / k', async () => {
      const q = await query('how often must passwords be rotated');
      const hits = await index.search(space, { ...q, filter: scope, limit: 4 });
      assert.equal(hits.length, 4);
      assert.equal(hits[0]?.payload.text, CORPUS[4]!.text);
      assert.ok(Math.abs(hits[0]!.score - 2 / RRF_K) < 1e-6, `fused score ${hits[0]!.score}, expected ${2 / RRF_K}`);
      assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1]!.score));
    });

    it('filters by metadata of every kind the API accepts, the same on every adapter', async () => {
      const q = (await query('company policy')).dense;
      const where = async (metadata: SearchFilter['metadata']) => docs(await index.search(space, { dense: q, filter: { ...scope, metadata }, limit: 20 }));
      assert.deepEqual(await where({ team: 'hr' }), new Set(['travel']), 'a string');
      assert.deepEqual(await where({ year: [2022, 2023] }), new Set(['travel', 'kernel']), 'any of integers');
      assert.deepEqual(await where({ 'region.code': 'eu' }), new Set(['refunds', 'security']), 'a key with a dot is a key, not a path');
      assert.deepEqual(await where({ score: 1.25 }), new Set(['travel']), 'a float');
      assert.deepEqual(await where({ score: [0.5, 3.75] }), new Set(['refunds', 'kernel']), 'any of floats');
      assert.deepEqual(await where({ public: true }), new Set(['refunds', 'security']), 'a boolean');
      assert.deepEqual(await where({ public: [true, false] }), new Set(['refunds', 'travel', 'security', 'kernel']), 'any of booleans');
      assert.deepEqual(await where({ team: ['hr', 2022] }), new Set(['travel']), 'a mixed list');
      assert.deepEqual(await where({ year: [2022, 'support'] }), new Set(['kernel']), 'a mixed list, the other way');
      assert.deepEqual(await where({ tags: 'money' }), new Set(['refunds', 'travel']), 'a document whose value is a list matches by any element');
      assert.deepEqual(await where({ tags: ['code', 'returns'] }), new Set(['refunds', 'kernel']));
      assert.deepEqual(await where({ team: [] }), new Set(), 'an empty list matches nothing');
      assert.deepEqual(await where({ team: 'it', year: 2024 }), new Set(['security']), 'keys combine with and');
    });

    it('deletes older versions of one document only, in one generation of one tenant', async () => {
      const v2 = point(2, { version: 2 });
      await index.upsert(space, [v2]);
      await index.deletePoints(space, { ...scope, documentId: 'travel', versionBelow: 2 });
      assert.equal(await index.count(space, { ...scope, documentId: 'travel' }), 1);
      assert.equal(await index.count(space, { ...scope, documentId: 'travel', version: 2 }), 1);
      assert.equal(await index.count(space, { tenantId: 'tenant-b', documentId: 'travel' }), 2, 'the other tenant, same ids, untouched');
      assert.equal(await index.count(space, { tenantId: tenant, collection: 'policies', generation: 2, documentId: 'travel' }), 2, 'the other generation untouched');
    });

    it('drops a generation with a filtered delete, leaving the others', async () => {
      const [live, foreign] = [await index.count(space, scope), await index.count(space, { tenantId: 'tenant-b' })];
      await index.deletePoints(space, { tenantId: tenant, collection: 'policies', generation: 2 });
      assert.equal(await index.count(space, { tenantId: tenant, collection: 'policies', generation: 2 }), 0);
      assert.deepEqual([await index.count(space, scope), await index.count(space, { tenantId: 'tenant-b' })], [live, foreign]);
    });
  });
}
