import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { normalise } from '../../lib/answer/model-answer';
import { loadConfig } from '../../lib/config';
import { averageMetrics, type RankingMetrics } from '../../lib/eval/retrieval-metrics';
import { chunkDocument, defaultChunking } from '../../lib/ingest/chunk';
import { parseDocument } from '../../lib/ingest/parse';
import { createEmbedder } from '../../lib/platform';
import { SentenceSimilarityReranker } from '../../lib/rerank/sentence-similarity-reranker';
import { EmbeddedVectorIndex } from '../../lib/stores/embedded-index';
import { openEmbeddedPostgres } from '../../lib/stores/sql';
import type { IndexPoint, SearchRequest } from '../../lib/stores/vector-index';
import { encodeDocument, encodeQuery } from '../../lib/text/sparse';

interface LabeledSet {
  corpus: string;
  questions: { question: string; document: string; evidence: string }[];
}

const INDEX = 'eval';
const FILTER = { tenantId: 'eval', collection: 'eval' };

/**
 * `npm run eval`: retrieval quality of dense, sparse (BM25), hybrid (RRF) and hybrid + rerank on
 * a labeled question set over a real corpus, the Fastify reference documentation. Chunked and
 * embedded exactly as ingestion does, with the configured (default: local) embedding model.
 */
async function main(): Promise<void> {
  const set = JSON.parse(readFileSync(join(__dirname, 'fastify-reference.questions.json'), 'utf8')) as LabeledSet;
  const docsDir = join(dirname(require.resolve('fastify/package.json')), 'docs', 'Reference');
  const dataDir = mkdtempSync(join(tmpdir(), 'rag-eval-'));
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir });
  const embedder = await createEmbedder(config);
  const db = await openEmbeddedPostgres(join(dataDir, 'db'));
  const index = await EmbeddedVectorIndex.open(db);
  try {
    await index.ensureIndex(INDEX, { dimensions: embedder.dimensions });
    const started = performance.now();
    const settings = defaultChunking(config, embedder.maxInputTokens);
    let chunkCount = 0;
    const files = readdirSync(docsDir).filter((file) => file.endsWith('.md')).sort();
    for (const file of files) {
      const parsed = await parseDocument(readFileSync(join(docsDir, file)), 'text/markdown');
      const chunks = await chunkDocument(parsed, settings, (text) => embedder.countTokens(text), true);
      const vectors = await embedder.embed(chunks.map((chunk) => chunk.text));
      const points: IndexPoint[] = chunks.map((chunk, i) => ({
        id: `${file}#${chunk.index}`,
        dense: vectors[i] as number[],
        sparse: encodeDocument(chunk.text),
        payload: { tenant_id: 'eval', collection: 'eval', document_id: file, version: 1, chunk_index: chunk.index, text: chunk.text, title: file, page_start: null, page_end: null, headings: chunk.headings, metadata: {} },
      }));
      await index.upsert(INDEX, points);
      chunkCount += chunks.length;
    }
    console.log(`corpus: ${set.corpus}: ${files.length} documents, ${chunkCount} chunks (indexed in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    console.log(`questions: ${set.questions.length}, relevance: the labeled document's chunks that contain the labeled evidence`);

    const reranker = new SentenceSimilarityReranker(embedder);
    const runs: Record<string, { ranked: string[]; relevant: Set<string> }[]> = { dense: [], sparse: [], hybrid: [], 'hybrid + rerank': [] };
    const rerankMs: number[] = [];
    for (const labeled of set.questions) {
      const relevant = await relevantChunks(index, labeled);
      if (relevant.size === 0) throw new Error(`label error: no chunk of ${labeled.document} contains "${labeled.evidence}"`);
      const [dense] = await embedder.embed([labeled.question]);
      const sparse = encodeQuery(labeled.question);
      const search = (request: Omit<SearchRequest, 'filter'>) => index.search(INDEX, { ...request, filter: FILTER });
      const ids = (hits: { id: string }[]) => hits.map((hit) => hit.id);
      runs.dense?.push({ ranked: ids(await search({ dense, limit: 10 })), relevant });
      runs.sparse?.push({ ranked: ids(await search({ sparse, limit: 10 })), relevant });
      runs.hybrid?.push({ ranked: ids(await search({ dense, sparse, limit: 10 })), relevant });
      const hybrid = await search({ dense, sparse, limit: config.RERANK_CANDIDATES });
      const rerankStarted = performance.now();
      const scores = await reranker.rerank(labeled.question, hybrid.map((hit) => ({ text: hit.payload.text })));
      rerankMs.push(performance.now() - rerankStarted);
      const reranked = hybrid.map((hit, i) => ({ id: hit.id, score: scores[i] ?? 0 })).sort((a, b) => b.score - a.score);
      runs['hybrid + rerank']?.push({ ranked: ids(reranked.slice(0, 10)), relevant });
    }

    const table = Object.fromEntries(Object.entries(runs).map(([name, results]) => [name, averageMetrics(results)])) as Record<string, RankingMetrics>;
    console.log('');
    console.log('| retrieval | recall@5 | recall@10 | MRR | nDCG@10 |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const [name, m] of Object.entries(table)) console.log(`| ${name} | ${f(m.recallAt5)} | ${f(m.recallAt10)} | ${f(m.mrr)} | ${f(m.ndcgAt10)} |`);
    rerankMs.sort((a, b) => a - b);
    const p = (q: number) => rerankMs[Math.min(rerankMs.length - 1, Math.floor(q * rerankMs.length))]?.toFixed(0);
    console.log(`\nrerank latency (${reranker.name}, ${config.RERANK_CANDIDATES} candidates): p50 ${p(0.5)} ms, p95 ${p(0.95)} ms`);
    console.log(JSON.stringify({ eval: 'retrieval', questions: set.questions.length, chunks: chunkCount, metrics: table }));
  } finally {
    await embedder.close();
    await index.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Chunks of the labeled document whose text contains the evidence, ignoring case and spacing. */
async function relevantChunks(index: EmbeddedVectorIndex, labeled: LabeledSet['questions'][number]): Promise<Set<string>> {
  const evidence = normalise(labeled.evidence);
  const all = await index.search(INDEX, { sparse: encodeQuery(labeled.evidence), filter: { ...FILTER, documentId: labeled.document }, limit: 10_000 });
  return new Set(all.filter((hit) => normalise(hit.payload.text).includes(evidence)).map((hit) => hit.id));
}

const f = (value: number) => value.toFixed(3);

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
