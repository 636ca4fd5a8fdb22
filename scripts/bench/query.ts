import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../../lib/config';
import { startStack } from '../../test/helpers/stack';
import { EmbeddingCache, seedCollection } from '../eval/seed';
import { benchIndexSearch } from './index-search';
import { benchInstrumentation } from './instrumentation';

const TENANT = 'default';
const COLLECTION = 'bench';

/**
 * Query latency on a collection of at least 10,000 chunks: p50/p95 per stage and end to end for
 * `retrieve` and `answer` (zero-setup configuration: local reranker, extractive answerer), the
 * platform's own overhead (end to end minus model time: question embedding, reranking,
 * generation) and, separately, Temporal's orchestration cost.
 *
 * Corpus: the Fastify reference docs as `--copies` separate documents, written into the stores as
 * ingestion writes them; identical chunks are embedded once (a cache outside the repo), so the
 * index holds copies × chunks points without hours of embedding on two cores.
 */
export async function benchQuery(args: string[]): Promise<void> {
  if (args.includes('--overhead-only')) return printOverhead(args);
  const adapters = await benchIndexSearch(args);
  console.log(JSON.stringify({ bench: 'query', part: 'index adapters', ...adapters }));
  if (args.includes('--adapters-only')) return;
  const copies = Number(args.find((a) => a.startsWith('--copies='))?.split('=')[1] ?? 11);
  const queries = Number(args.find((a) => a.startsWith('--queries='))?.split('=')[1] ?? 60);
  const stack = await startStack();
  try {
    const { platform } = stack;
    const api = stack.api;
    const docsDir = join(dirname(require.resolve('fastify/package.json')), 'docs', 'Reference');
    const files = readdirSync(docsDir).filter((file) => file.endsWith('.md')).sort();
    const started = performance.now();
    const documents = Array.from({ length: copies }, (_, copy) =>
      files.map((file) => ({ documentId: `${file.replace(/\.md$/, '').toLowerCase()}-${copy}`, bytes: readFileSync(join(docsDir, file)), mediaType: 'text/markdown' as const, title: file, metadata: { copy } })),
    ).flat();
    // Written as ingestion writes them; each copy's chunks are embedded once (the cache outside the repo).
    const { chunks } = await seedCollection(platform, TENANT, COLLECTION, documents, new EmbeddingCache(join(cacheRoot(), 'eval-embeddings')));
    const points = chunks.size;
    console.log(`collection: ${points} chunks (${files.length} Fastify reference docs × ${copies} copies; seeded in ${((performance.now() - started) / 1000).toFixed(0)} s)`);

    const questions = (JSON.parse(readFileSync(join(__dirname, '..', 'eval', 'questions', 'fastify.json'), 'utf8')) as { questions: { question: string }[] }).questions.map((q) => q.question);
    for (const mode of ['retrieve', 'answer'] as const) {
      const samples: Record<string, number[]> = {};
      const add = (name: string, value: number) => (samples[name] ??= []).push(value);
      // Warm-up: the first queries load caches and JIT-compile the paths.
      for (const question of questions.slice(0, 3)) await api.postJson('/v1/query', { collection: COLLECTION, question, mode });
      for (let i = 0; i < queries; i++) {
        const question = questions[i % questions.length] as string;
        const sent = performance.now();
        const response = await api.postJson('/v1/query', { collection: COLLECTION, question, mode, topK: 5 });
        const clientMs = performance.now() - sent;
        if (response.status !== 200) throw new Error(`query answered ${response.status}: ${JSON.stringify(response.body)}`);
        const l = response.body.latencyMs;
        const modelMs = l.embed + (l.rerank ?? 0) + (l.generate ?? 0);
        for (const [stage, value] of Object.entries(l)) add(stage, value as number);
        add('end to end (client)', clientMs);
        add('platform overhead (end to end − model time)', clientMs - modelMs);
        add('HTTP + API (client − server total)', clientMs - l.total);
      }
      console.log(`\nmode "${mode}", ${queries} sequential queries, topK 5:`);
      console.log('| stage | p50 ms | p95 ms |');
      console.log('| --- | --- | --- |');
      for (const [stage, values] of Object.entries(samples)) console.log(`| ${stage} | ${pct(values, 0.5)} | ${pct(values, 0.95)} |`);
      console.log(JSON.stringify({ bench: 'query', mode, chunks: points, queries, p50: summary(samples, 0.5), p95: summary(samples, 0.95) }));
    }
    console.log('\n"orchestration" is Temporal\'s cost: the API\'s wall time around the workflow minus the stages the activities measured.');
  } finally {
    await stack.close();
  }
  await printOverhead(args);
}

async function printOverhead(args: string[]): Promise<void> {
  const overhead = await benchInstrumentation(args);
  console.log(`\ninstrumentation on versus off, "retrieve", ${overhead.rounds} alternating rounds of ${overhead.queriesPerRound} queries (client wall time):`);
  console.log('| tracing | p50 ms |');
  console.log('| --- | --- |');
  console.log(`| off (metrics only) | ${overhead.offP50Ms} |`);
  console.log(`| on (every span recorded and exported over OTLP) | ${overhead.onP50Ms} |`);
  console.log(`| overhead | ${overhead.overheadP50Ms} |`);
  console.log(JSON.stringify({ bench: 'query', part: 'instrumentation overhead', ...overhead }));
}

function pct(values: number[], q: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
}

const summary = (samples: Record<string, number[]>, q: number) => Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Number(pct(v, q))]));
