import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { cosine } from '../../lib/cache/answer-cache';
import { sameQuestion } from '../../lib/cache/question-match';
import { fastifyReferenceDocs, fastifyReferenceQuestions, numberedPagesPdf } from '../../test/helpers/fixtures';
import { startStack, type ApiClient, type Stack } from '../../test/helpers/stack';
import { waitFor } from '../../test/helpers/temporal';

/**
 * The caches, measured in one run on one stack:
 * - answers: p50/p95 of fresh answers (misses), exact hits and semantic hits of the same questions;
 * - embeddings: a 100-page PDF ingested, then the same PDF with one page changed, timed upload to ready;
 * - the semantic matcher's precision and recall on labeled paraphrase and near-miss pairs.
 */
export async function benchCache(args: string[]): Promise<void> {
  const pages = Number(args.find((a) => a.startsWith('--pages='))?.split('=')[1] ?? 100);
  const stack = await startStack();
  try {
    // First, while the embedding cache is empty: the first ingest must embed every chunk.
    const reingest = await reingestOnePageChanged(stack, pages);
    const pairs = await semanticPairs(stack);
    const answers = await answerLatency(stack);
    const result = { ...reingest, ...answers, ...pairs.atDefault };
    console.log('semantic matcher on scripts/bench/cache-pairs.json (hit = similarity at or above the threshold and the same question shape):');
    console.table(pairs.sweep);
    console.table(result);
    console.log(JSON.stringify(result));
  } finally {
    await stack.close();
  }
}

async function answerLatency(stack: Stack) {
  const { api } = stack;
  for (const doc of fastifyReferenceDocs()) {
    const response = await api.postJson('/v1/collections/ref/documents', { text: doc.text, mediaType: 'text/markdown', documentId: doc.documentId });
    if (response.status !== 202) throw new Error(`upload answered ${response.status}`);
  }
  for (const doc of fastifyReferenceDocs()) await waitFor(`${doc.documentId} ready`, async () => (await api.get(`/v1/documents/${doc.documentId}`)).body, (d) => d.stage === 'ready', 600_000, 200);
  const questions = fastifyReferenceQuestions().map((q) => q.question);
  const timings = { miss: [] as number[], exact: [] as number[], semantic: [] as number[] };
  const outcomes: Record<string, number> = {};
  const ask = async (question: string, expected: keyof typeof timings) => {
    const started = performance.now();
    const response = await api.postJson('/v1/query', { collection: 'ref', question });
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`query answered ${response.status}: ${JSON.stringify(response.body)}`);
    const hit = response.body.cache.hit as string;
    outcomes[`${expected}→${hit}`] = (outcomes[`${expected}→${hit}`] ?? 0) + 1;
    if (hit === expected) timings[expected].push(ms);
  };
  // Alternating per question, so the three kinds meet the same machine load.
  for (const question of questions) {
    await ask(question, 'miss');
    await ask(question.toUpperCase(), 'exact');
    // Words that phrase a question without changing it: a paraphrase the matcher accepts when the embeddings agree.
    await ask(`Please tell me: ${question}`, 'semantic');
  }
  console.log('asked → served:', outcomes);
  return {
    questions: questions.length,
    missP50Ms: percentile(timings.miss, 0.5),
    missP95Ms: percentile(timings.miss, 0.95),
    exactHits: timings.exact.length,
    exactP50Ms: percentile(timings.exact, 0.5),
    exactP95Ms: percentile(timings.exact, 0.95),
    semanticHits: timings.semantic.length,
    semanticP50Ms: percentile(timings.semantic, 0.5),
    semanticP95Ms: percentile(timings.semantic, 0.95),
  };
}

async function reingestOnePageChanged(stack: Stack, pages: number) {
  const original = await pdfOfDistinctPages(pages);
  const changed = await withOnePageChanged(original, Math.floor(pages / 2));
  const before = await embeddingLookups(stack);
  const firstSeconds = await timedUpload(stack.api, original, 1);
  const afterFirst = await embeddingLookups(stack);
  const secondSeconds = await timedUpload(stack.api, changed, 2);
  const afterSecond = await embeddingLookups(stack);
  return {
    pdfPages: pages,
    firstIngestSeconds: round(firstSeconds),
    firstIngestEmbedded: afterFirst.miss - before.miss,
    firstIngestFromCache: afterFirst.hit - before.hit,
    reingestSeconds: round(secondSeconds),
    reingestEmbedded: afterSecond.miss - afterFirst.miss,
    reingestFromCache: afterSecond.hit - afterFirst.hit,
    reingestSpeedup: round(firstSeconds / secondSeconds),
  };
}

/**
 * A manual of distinct pages: the Fastify reference docs (real prose, shipped in the fastify
 * package) set as PDF text, about 2,500 characters a page. The fixture PDFs have too few pages
 * to fill 100 without repeating, and repeated pages would come from the cache on the first ingest.
 */
async function pdfOfDistinctPages(pages: number): Promise<Uint8Array> {
  // Helvetica's WinAnsi encoding: plain ASCII only.
  const prose = fastifyReferenceDocs()
    .map((doc) => doc.text)
    .join('\n\n')
    .replace(/[^\x20-\x7e\n]/g, ' ')
    .replace(/\s+/g, ' ');
  const perPage = 2_500;
  if (prose.length < pages * perPage) throw new Error(`the docs fill ${Math.floor(prose.length / perPage)} pages, not ${pages}`);
  return numberedPagesPdf(Array.from({ length: pages }, (_, p) => prose.slice(p * perPage, (p + 1) * perPage)));
}

async function withOnePageChanged(bytes: Uint8Array, pageIndex: number): Promise<Uint8Array> {
  const doc = await PDFDocument.load(bytes);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.getPage(pageIndex).drawText('Erratum: the measurement on this page was repeated in 2026 and the result holds.', { x: 40, y: 40, size: 9, font });
  return doc.save();
}

async function timedUpload(api: ApiClient, bytes: Uint8Array, version: number): Promise<number> {
  const started = performance.now();
  const response = await api.upload('manual', { bytes, filename: 'manual.pdf', type: 'application/pdf' }, { documentId: 'manual.pdf' });
  if (response.status !== 202) throw new Error(`upload answered ${response.status}: ${JSON.stringify(response.body)}`);
  const doc = await waitFor('manual.pdf ready', async () => (await api.get('/v1/documents/manual.pdf')).body, (d) => d.activeVersion === version || d.stage === 'failed', 1_800_000, 100);
  if (doc.activeVersion !== version) throw new Error(`version ${version} failed: ${JSON.stringify(doc.error)}`);
  return (performance.now() - started) / 1000;
}

async function embeddingLookups(stack: Stack): Promise<{ hit: number; miss: number }> {
  const values = (await stack.platform.metrics.cacheLookups.get()).values;
  const count = (outcome: string) => values.filter((v) => v.labels.cache === 'embedding' && v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
  return { hit: count('hit'), miss: count('miss') };
}

async function semanticPairs(stack: Stack) {
  const { pairs } = JSON.parse(readFileSync(join(__dirname, 'cache-pairs.json'), 'utf8')) as { pairs: { a: string; b: string; same: boolean }[] };
  const { embedder, config } = stack.platform;
  const scored: { similarity: number; shape: boolean; same: boolean }[] = [];
  for (const pair of pairs) {
    const [a, b] = await embedder.embed([pair.a.toLowerCase(), pair.b.toLowerCase()]);
    scored.push({ similarity: cosine(a as number[], b as number[]), shape: sameQuestion(pair.a, pair.b), same: pair.same });
  }
  const at = (threshold: number, withShape: boolean) => {
    const hit = (s: (typeof scored)[number]) => s.similarity >= threshold && (!withShape || s.shape);
    const tp = scored.filter((s) => hit(s) && s.same).length;
    const fp = scored.filter((s) => hit(s) && !s.same).length;
    const fn = scored.filter((s) => !hit(s) && s.same).length;
    return { threshold, matcher: withShape ? 'similarity + shape' : 'similarity only', truePositives: tp, falsePositives: fp, falseNegatives: fn, precision: tp + fp ? round(tp / (tp + fp)) : null, recall: round(tp / (tp + fn)) };
  };
  const sweep = [0.8, 0.85, 0.9, 0.93, 0.95].flatMap((t) => [at(t, false), at(t, true)]);
  const chosen = at(config.ANSWER_CACHE_SEMANTIC_THRESHOLD, true);
  return {
    sweep,
    atDefault: {
      pairs: pairs.length,
      paraphrasePairs: pairs.filter((p) => p.same).length,
      semanticThreshold: chosen.threshold,
      semanticPrecision: chosen.precision,
      semanticRecall: chosen.recall,
    },
  };
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number);
}

const round = (n: number) => Math.round(n * 100) / 100;
