import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { perDocumentCap } from '../../activities/answer';
import { EvidenceScorer } from '../../lib/answer/evidence-scorer';
import { normalise } from '../../lib/answer/model-answer';
import { cacheRoot } from '../../lib/config';
import { averageMetrics, type RankingMetrics } from '../../lib/eval/retrieval-metrics';
import { LocalOnnxEmbedder } from '../../lib/models/local-onnx-embedder';
import { diversify } from '../../lib/query/diversify';
import type { RetrievedChunk } from '../../lib/query/types';
import { EvidenceReranker } from '../../lib/rerank/evidence-reranker';
import { startStack, type ApiClient } from '../../test/helpers/stack';
import { loadCorpora, type EvalCorpus } from './corpora';
import { createCandidate, gateCorpus, printGateReports } from './gate';
import { evidenceOf, type LabeledQuestion } from './labels';
import { EmbeddingCache, seedCollection } from './seed';
import type { GateReport } from '../../lib/eval/gate';

interface Outcome {
  corpus: string;
  question: LabeledQuestion;
  found: boolean;
  answer: string;
  answeredBy: string;
  citations: { documentId: string; chunkId: string; quote: string; score: number; page: number | null }[];
  notFound?: { reason: string; bestScore: number | null; floor: number | null; closest: { documentId: string; score: number }[] };
  /** The best relevance the answer saw: its top citation's, or the closest candidate's when refused. */
  bestScore: number | null;
  citedEvidence: boolean;
  containsEvidence: boolean;
  quotesVerbatim: boolean;
  latencyMs: number;
  /** Where the first chunk holding the evidence ranked (1-based; null: not there): in the hybrid pool, and among the reranked answer candidates. */
  evidenceRank?: { hybrid: number | null; reranked: number | null };
}

const TENANT = 'default';
const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

/**
 * `npm run eval`: answers and retrieval on the repo's labeled set (scripts/eval/questions/), over
 * several kinds of corpora that registry packages ship (scripts/eval/corpora.json), through the
 * real platform: Temporal dev server, workers, HTTP API, the configured models (zero-setup:
 * local embeddings, local reranker, extractive answers). Documents are written into the stores
 * as ingestion writes them, embedding each chunk once per machine (a cache outside the repo).
 *
 * Options: `--corpus=a,b`, `--floor=0.4` (the relevance floor), `--sweep` (answer at floor 0 and
 * tabulate what each floor would have given), `--show=20` (print answers to read), `--sample=40`
 * (every n-th question of each corpus, about that many in all: for slow local models). The
 * models are the configured ones: `LOCAL_CHAT_MODEL=qwen2.5-1.5b npm run eval -- --sample=40`.
 * `--gate` runs the evaluation pipeline instead (evaluateWorkflow through a promotion, per
 * corpus: production's prompt version against a candidate, `--candidate=prompt.md`).
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const sweep = args.includes('--sweep');
  const only = option('corpus')?.split(',');
  const corpora = loadCorpora(join(cacheRoot(), 'eval-corpora')).filter((c) => !only || only.includes(c.name));
  const sets = readdirSync(join(__dirname, 'questions')).map((file) => JSON.parse(readFileSync(join(__dirname, 'questions', file), 'utf8')) as { corpus: string; questions: LabeledQuestion[] });
  const total = sets.reduce((sum, set) => sum + set.questions.length, 0);
  const every = option('sample') ? Math.max(1, Math.round(total / Number(option('sample')))) : 1;
  const questions = new Map(sets.map((set) => [set.corpus, set.questions.filter((_, i) => i % every === 0)] as const));
  const overrides: Record<string, string> = { GUARDRAILS: 'on' };
  if (sweep) overrides.RELEVANCE_FLOOR = '0';
  else if (option('floor')) overrides.RELEVANCE_FLOOR = option('floor') as string;
  const stack = await startStack(overrides);
  const vectors = new EmbeddingCache(join(cacheRoot(), 'eval-embeddings'));
  const outcomes: Outcome[] = [];
  const retrieval: Record<string, { ranked: string[]; relevant: Set<string> }[]> = { hybrid: [], 'answer candidates (diverse + rerank)': [] };
  const scorer = new EvidenceScorer(await stack.platform.embedders.get(LocalOnnxEmbedder.MODEL_ID));
  const reranker = new EvidenceReranker(scorer);
  const { config } = stack.platform;
  const gate = args.includes('--gate');
  const gateReports: [string, GateReport][] = [];
  try {
    const candidate = gate ? await createCandidate(stack.operator, option('candidate')) : 0;
    for (const corpus of corpora) {
      const started = performance.now();
      const seeded = await seed(stack.platform, corpus, vectors);
      console.error(`[eval] ${corpus.name}: ${corpus.documents.length} documents, ${seeded.chunks.size} chunks ready in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      if (gate) {
        gateReports.push([corpus.name, await gateCorpus(stack.api, stack.operator, corpus.name, questions.get(corpus.name) ?? [], candidate)]);
        continue;
      }
      for (const labeled of questions.get(corpus.name) ?? []) {
        const relevant = relevantChunks(seeded, labeled);
        let evidenceRank: Outcome['evidenceRank'];
        if (labeled.answerable) {
          const pool = await retrieve(stack.api, corpus.name, labeled.question, config.RERANK_CANDIDATES * 3);
          retrieval.hybrid?.push({ ranked: pool.slice(0, 10).map((c) => c.chunkId), relevant });
          const candidates = diversify(pool, config.RERANK_CANDIDATES, perDocumentCap(config.RERANK_CANDIDATES));
          const scores = await reranker.rerank(labeled.question, candidates);
          const reranked = candidates.map((c, i) => ({ id: c.chunkId, score: scores[i] ?? 0 })).sort((a, b) => b.score - a.score);
          retrieval['answer candidates (diverse + rerank)']?.push({ ranked: reranked.slice(0, 10).map((c) => c.id), relevant });
          const rankOf = (ids: string[]) => (ids.findIndex((id) => relevant.has(id)) + 1 || null);
          evidenceRank = { hybrid: rankOf(pool.map((c) => c.chunkId)), reranked: rankOf(reranked.map((c) => c.id)) };
        }
        outcomes.push({ ...(await ask(stack.api, corpus.name, labeled, relevant, seeded.chunks)), ...(evidenceRank && { evidenceRank }) });
      }
    }
  } finally {
    await stack.close();
  }
  if (gate) return printGateReports(gateReports);
  report(outcomes, retrieval, corpora.map((c) => c.name), config.RELEVANCE_FLOOR);
  if (sweep) floorSweep(outcomes);
  show(outcomes, Number(option('show') ?? 0));
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'eval.json'), JSON.stringify({ floor: config.RELEVANCE_FLOOR, outcomes }, null, 1));
  console.log('\nevery answer: bench-results/eval.json');
}

async function seed(platform: Parameters<typeof seedCollection>[0], corpus: EvalCorpus, vectors: EmbeddingCache) {
  const documents = corpus.documents.map((d) => ({ documentId: d.id, bytes: readFileSync(d.path), mediaType: d.mediaType, title: d.id }));
  return seedCollection(platform, TENANT, corpus.name, documents, vectors);
}

/** Chunks of a labeled document that hold its evidence (compared without case and spacing); each place must be found. */
function relevantChunks(seeded: { chunks: Map<string, { documentId: string; text: string }> }, labeled: LabeledQuestion): Set<string> {
  const relevant = new Set<string>();
  for (const { document, evidence } of evidenceOf(labeled)) {
    const wanted = normalise(evidence);
    const found = [...seeded.chunks].filter(([, chunk]) => chunk.documentId === document && normalise(chunk.text).includes(wanted));
    if (found.length === 0) throw new Error(`label error: no chunk of ${document} holds "${evidence}" (${labeled.question})`);
    for (const [id] of found) relevant.add(id);
  }
  return relevant;
}

async function retrieve(api: ApiClient, collection: string, question: string, topK: number): Promise<RetrievedChunk[]> {
  const response = await api.postJson('/v1/query', { collection, question, mode: 'retrieve', topK });
  if (response.status !== 200) throw new Error(`retrieve answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.chunks as RetrievedChunk[];
}

async function ask(api: ApiClient, corpus: string, labeled: LabeledQuestion, relevant: Set<string>, chunks: Map<string, { documentId: string; text: string }>): Promise<Outcome> {
  const sent = performance.now();
  const response = await api.postJson('/v1/query', { collection: corpus, question: labeled.question });
  const latencyMs = performance.now() - sent;
  if (response.status !== 200) throw new Error(`answer answered ${response.status}: ${JSON.stringify(response.body)}`);
  const body = response.body;
  const citations = (body.citations ?? []) as Outcome['citations'];
  return {
    corpus,
    question: labeled,
    found: body.found,
    answer: body.answer,
    answeredBy: body.model?.provider ?? 'unknown',
    citations,
    notFound: body.notFound,
    bestScore: body.found ? Math.max(...citations.map((c) => c.score)) : (body.notFound?.bestScore ?? null),
    citedEvidence: body.found && citations.some((c) => relevant.has(c.chunkId)),
    containsEvidence: body.found && evidenceOf(labeled).some(({ evidence }) => normalise(body.answer).includes(normalise(evidence))),
    quotesVerbatim: citations.every((c) => verbatim(c.quote, chunks.get(c.chunkId)?.text ?? '')),
    latencyMs,
  };
}

function report(outcomes: Outcome[], retrieval: Record<string, { ranked: string[]; relevant: Set<string> }[]>, corpora: string[], floor: number): void {
  console.log(`\nrelevance floor ${floor}\n`);
  console.log('| corpus | questions (unanswerable) | answered with the evidence cited | answer contains the evidence | answered at all | unanswerable refused | quotes verbatim | p50 / p95 ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const name of [...corpora, 'all']) {
    const rows = outcomes.filter((o) => name === 'all' || o.corpus === name);
    const answerable = rows.filter((o) => o.question.answerable);
    const unanswerable = rows.filter((o) => !o.question.answerable);
    const share = (list: Outcome[], test: (o: Outcome) => boolean) => `${pct(list.filter(test).length / Math.max(1, list.length))} (${list.filter(test).length}/${list.length})`;
    const latencies = rows.map((o) => o.latencyMs).sort((a, b) => a - b);
    console.log(
      `| ${name} | ${rows.length} (${unanswerable.length}) | ${share(answerable, (o) => o.citedEvidence)} | ${share(answerable, (o) => o.containsEvidence)} | ${share(answerable, (o) => o.found)} | ${share(unanswerable, (o) => !o.found)} | ${share(rows.filter((o) => o.found), (o) => o.quotesVerbatim)} | ${quantile(latencies, 0.5).toFixed(0)} / ${quantile(latencies, 0.95).toFixed(0)} |`,
    );
  }
  console.log('\n| retrieval (answerable questions, all corpora) | recall@5 | recall@10 | MRR | nDCG@10 |');
  console.log('| --- | --- | --- | --- | --- |');
  const table: Record<string, RankingMetrics> = {};
  for (const [name, results] of Object.entries(retrieval)) {
    const m = (table[name] = averageMetrics(results));
    console.log(`| ${name} | ${m.recallAt5.toFixed(3)} | ${m.recallAt10.toFixed(3)} | ${m.mrr.toFixed(3)} | ${m.ndcgAt10.toFixed(3)} |`);
  }
  console.log(JSON.stringify({ eval: 'answers', floor, questions: outcomes.length, retrieval: table }));
}

/** What each floor would have given, from answers made at floor 0 (run with --sweep). */
function floorSweep(outcomes: Outcome[]): void {
  const answerable = outcomes.filter((o) => o.question.answerable);
  const unanswerable = outcomes.filter((o) => !o.question.answerable);
  console.log('\n| floor | answerable: answered with the evidence cited | unanswerable: refused |');
  console.log('| --- | --- | --- |');
  for (let floor = 0.3; floor <= 0.7001; floor += 0.02) {
    const kept = (o: Outcome) => o.found && (o.bestScore ?? 0) >= floor;
    console.log(`| ${floor.toFixed(2)} | ${pct(answerable.filter((o) => kept(o) && o.citedEvidence).length / answerable.length)} | ${pct(unanswerable.filter((o) => !kept(o)).length / unanswerable.length)} |`);
  }
}

function show(outcomes: Outcome[], count: number): void {
  const step = Math.max(1, Math.floor(outcomes.length / Math.max(1, count)));
  for (let i = 0; i < outcomes.length && count > 0; i += step, count--) {
    const o = outcomes[i] as Outcome;
    const verdict = o.question.answerable ? (o.citedEvidence ? 'GOOD' : o.found ? 'MISSED' : 'REFUSED') : o.found ? 'ANSWERED-UNANSWERABLE' : 'REFUSED-OK';
    console.log(`\n[${o.corpus}] ${verdict} (best ${o.bestScore?.toFixed(3)}) Q: ${o.question.question}`);
    console.log(`A: ${o.answer}`);
    for (const c of o.citations) console.log(`   - ${c.documentId} p.${c.page ?? '-'} (${c.score.toFixed(3)})`);
    if (o.notFound) console.log(`   not found: ${o.notFound.reason}, best ${o.notFound.bestScore?.toFixed(3)} < floor ${o.notFound.floor}; closest ${o.notFound.closest.map((c) => c.documentId).join(', ')}`);
    if (o.question.answerable) console.log(`   expected (${o.question.document}): ${o.question.evidence}; evidence ranked ${o.evidenceRank?.hybrid ?? '-'} in the hybrid pool, ${o.evidenceRank?.reranked ?? '-'} after reranking`);
  }
}

/** The quote occurs in its chunk (ignoring case and spacing); personal data the output guard masked may stand for any text. */
function verbatim(quote: string, chunk: string): boolean {
  const parts = normalise(quote).split(/\[(?:email|phone|credit_card|iban|national_id)\]/);
  const text = normalise(chunk);
  let from = 0;
  for (const part of parts) {
    const at = text.indexOf(part, from);
    if (at === -1) return false;
    from = at + part.length;
  }
  return true;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
