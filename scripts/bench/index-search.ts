import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { cacheRoot, loadConfig } from '../../lib/config';
import { chunkDocument, defaultChunking, isStructured } from '../../lib/ingest/chunk';
import { parseDocument } from '../../lib/ingest/parse';
import { createEmbedder } from '../../lib/platform';
import { EmbeddedVectorIndex } from '../../lib/stores/embedded-index';
import { migrate } from '../../lib/stores/migrations';
import { QdrantVectorIndex } from '../../lib/stores/qdrant-index';
import { openEmbeddedPostgres } from '../../lib/stores/sql';
import type { IndexPoint, VectorIndex } from '../../lib/stores/vector-index';
import { encodeDocument, encodeQuery } from '../../lib/text/sparse';
import { loadCorpora } from '../eval/corpora';
import { EmbeddingCache } from '../eval/seed';

const SIZES = [10_000, 100_000];

/**
 * Search latency of the index adapters alone, side by side in one run: the same real chunks
 * (the eval corpora, embedded once and cached) copied to 10k and 100k points in one tenant's
 * collection generation, with 50 other tenants' points in the same space, searched hybrid
 * (dense + BM25, RRF) with real questions. Qdrant (when QDRANT_URL is set) is measured asking for
 * plain response bodies, as the adapter does, and for gzip ones, which fetch waits on. Then the
 * number of Qdrant collections after 50 tenants × 2 collections: one per embedding model.
 */
export async function benchIndexSearch(args: string[]): Promise<Record<string, unknown>> {
  const queries = Number(args.find((a) => a.startsWith('--searches='))?.split('=')[1] ?? 200);
  const config = loadConfig();
  const embedder = await createEmbedder(config);
  const cache = new EmbeddingCache(join(cacheRoot(), 'eval-embeddings'));
  const source: { text: string; dense: number[] }[] = [];
  for (const corpus of loadCorpora(join(cacheRoot(), 'eval-corpora')).filter((c) => c.name !== 'pari')) {
    for (const doc of corpus.documents) {
      const parsed = await parseDocument(readFileSync(doc.path), doc.mediaType);
      const chunks = await chunkDocument(parsed, defaultChunking(config, embedder.maxInputTokens), (t) => embedder.countTokens(t), isStructured(doc.mediaType));
      const dense = await cache.embed(embedder, chunks.map((c) => c.text));
      chunks.forEach((c, i) => source.push({ text: c.text, dense: dense[i] as number[] }));
    }
  }
  const questions = JSON.parse(readFileSync(join(__dirname, '..', 'eval', 'questions', 'gnuplot.json'), 'utf8')).questions.map((q: { question: string }) => q.question) as string[];
  const probes = await Promise.all(questions.map(async (q) => ({ dense: (await embedder.embed([q]))[0] as number[], sparse: encodeQuery(q) })));
  console.log(`[bench] ${source.length} distinct real chunks, ${probes.length} questions`);

  const point = (i: number, tenant: string, collection: string): IndexPoint => {
    const s = source[i % source.length] as { text: string; dense: number[] };
    return {
      id: randomUUID(),
      dense: s.dense,
      sparse: encodeDocument(s.text),
      payload: { tenant_id: tenant, collection, generation: 1, document_id: `doc-${Math.floor(i / 50)}`, version: 1, chunk_index: i % 50, text: s.text, title: null, page_start: null, page_end: null, headings: [], metadata: {} },
    };
  };
  const fill = async (index: VectorIndex, space: string, size: number) => {
    await index.ensureSpace(space, { dimensions: embedder.dimensions });
    for (let i = 0; i < size; i += 1000) await index.upsert(space, Array.from({ length: Math.min(1000, size - i) }, (_, j) => point(i + j, 'bench', `c${size}`)));
    // Neighbours in the same space: other tenants' points the filter must pass over.
    for (let t = 0; t < 50 && size === SIZES[0]; t++) await index.upsert(space, Array.from({ length: 200 }, (_, j) => point(t * 200 + j, `other-${t}`, 'docs')));
  };
  const timeSearches = async (index: VectorIndex, space: string, size: number) => {
    const samples: number[] = [];
    for (let i = 0; i < queries + 10; i++) {
      const probe = probes[i % probes.length] as { dense: number[]; sparse: ReturnType<typeof encodeQuery> };
      const started = performance.now();
      await index.search(space, { ...probe, filter: { tenantId: 'bench', collection: `c${size}`, generation: 1 }, limit: 30 });
      if (i >= 10) samples.push(performance.now() - started);
    }
    return { p50: quantile(samples, 0.5), p95: quantile(samples, 0.95) };
  };

  const results: Record<string, Record<string, { p50: number; p95: number }>> = {};
  const dir = mkdtempSync(join(tmpdir(), 'rag-bench-index-'));
  const db = await openEmbeddedPostgres(join(dir, 'db'));
  await migrate(db);
  const embedded = await EmbeddedVectorIndex.open(db);
  const qdrantUrl = process.env.QDRANT_URL;
  const qdrant = qdrantUrl ? new QdrantVectorIndex({ url: qdrantUrl }) : undefined;
  const gzip = qdrantUrl ? new QdrantVectorIndex({ url: qdrantUrl, acceptEncoding: 'gzip, deflate' }) : undefined;
  const space = `bench_${randomUUID().slice(0, 8)}`;
  let qdrantCollections: number | undefined;
  try {
    for (const size of SIZES) {
      const row: Record<string, { p50: number; p95: number }> = {};
      await fill(embedded, space, size);
      row.embedded = await timeSearches(embedded, space, size);
      if (qdrant && gzip) {
        await fill(qdrant, space, size);
        row['qdrant'] = await timeSearches(qdrant, space, size);
        row['qdrant, gzip responses'] = await timeSearches(gzip, space, size);
      }
      results[`${size}`] = row;
      console.log(`[bench] ${size} chunks: ${JSON.stringify(row)}`);
    }
    if (qdrant && qdrantUrl) {
      // 50 tenants with 2 collections each, written as the platform writes them: into the model's space.
      const tenantsSpace = `chunks_bench-model_${embedder.dimensions}_${randomUUID().slice(0, 4)}`;
      const client = new QdrantClient({ url: qdrantUrl, checkCompatibility: false });
      const before = (await client.getCollections()).collections.length;
      await qdrant.ensureSpace(tenantsSpace, { dimensions: embedder.dimensions });
      for (let t = 0; t < 50; t++) for (const c of ['handbook', 'contracts']) await qdrant.upsert(tenantsSpace, [point(t, `tenant-${t}`, c)]);
      qdrantCollections = (await client.getCollections()).collections.length - before;
      await qdrant.dropSpace(tenantsSpace);
    }
  } finally {
    if (qdrant) await qdrant.dropSpace(space);
    await embedded.close();
    await db.close();
    await embedder.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| chunks in the searched collection | adapter | search p50 ms | p95 ms |');
  console.log('| --- | --- | --- | --- |');
  for (const [size, row] of Object.entries(results)) for (const [adapter, r] of Object.entries(row)) console.log(`| ${size} | ${adapter} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} |`);
  if (qdrantCollections !== undefined) console.log(`\nQdrant collections created for 50 tenants × 2 collections: ${qdrantCollections} (one per embedding model)`);
  if (!qdrantUrl) console.log('\n(QDRANT_URL not set: Qdrant not measured)');
  return { search: results, qdrantCollectionsFor50TenantsX2: qdrantCollections ?? null };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
