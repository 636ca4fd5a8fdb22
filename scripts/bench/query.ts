import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../../lib/config';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app';
import { apiClient, startStack, type ApiClient } from '../../test/helpers/stack';
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
 * Before and after side by side: each query goes alternately to the API as `npm start` runs it
 * (sharing the workers' connection: runs start eagerly, their first workflow task in the start
 * response) and to a second API over a client connection of its own, as a separate API process
 * runs it (the first task goes through the task queue).
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
  // A separate API process's view: same stores and workers, a plain client connection of its own.
  const connection = await Connection.connect({ address: stack.env.address });
  const separate = await buildApp({ platform: stack.platform, temporal: new Client({ connection, namespace: stack.platform.config.TEMPORAL_NAMESPACE }) });
  const apis: { name: string; api: ApiClient }[] = [
    { name: 'shared connection (eager start)', api: stack.api },
    { name: 'separate connection (queued start)', api: apiClient(await separate.listen({ host: '127.0.0.1', port: 0 }), stack.apiKey) },
  ];
  try {
    const { platform } = stack;
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
      const samples = apis.map(() => ({}) as Record<string, number[]>);
      // Warm-up: the first queries load caches and JIT-compile the paths.
      for (const { api } of apis) for (const question of questions.slice(0, 3)) await api.postJson('/v1/query', { collection: COLLECTION, question, mode });
      for (let i = 0; i < queries; i++) {
        const question = questions[i % questions.length] as string;
        // Alternating, and each first in turn (the first pays the question's embedding), so both see the same machine at the same moment.
        for (const index of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const { api } = apis[index] as (typeof apis)[number];
          const add = (name: string, value: number) => ((samples[index] as Record<string, number[]>)[name] ??= []).push(value);
          const sent = performance.now();
          // The answer cache off: the second API would be served the first one's answer.
          const response = await api.postJson('/v1/query', { collection: COLLECTION, question, mode, topK: 5, cache: 'off' });
          const clientMs = performance.now() - sent;
          if (response.status !== 200) throw new Error(`query answered ${response.status}: ${JSON.stringify(response.body)}`);
          const l = response.body.latencyMs;
          const modelMs = l.embed + (l.rerank ?? 0) + (l.generate ?? 0);
          for (const [stage, value] of Object.entries(l)) add(stage, value as number);
          add('end to end (client)', clientMs);
          add('platform overhead (end to end − model time)', clientMs - modelMs);
          add('HTTP + API (client − server total)', clientMs - l.total);
        }
      }
      console.log(`\nmode "${mode}", ${queries} sequential queries to each API, alternating, topK 5:`);
      console.log(`| stage | ${apis.map(({ name }) => `${name} p50 ms | p95 ms`).join(' | ')} |`);
      console.log(`| --- |${' --- | --- |'.repeat(apis.length)}`);
      for (const stage of Object.keys(samples[0] as object)) console.log(`| ${stage} | ${samples.map((s) => `${pct(s[stage] ?? [], 0.5)} | ${pct(s[stage] ?? [], 0.95)}`).join(' | ')} |`);
      for (const [index, { name }] of apis.entries()) {
        const s = samples[index] as Record<string, number[]>;
        console.log(JSON.stringify({ bench: 'query', mode, api: name, chunks: points, queries, p50: summary(s, 0.5), p95: summary(s, 0.95) }));
      }
    }
    const starts = await stack.platform.metrics.queryRunStarts.get();
    console.log(`\nruns started: ${starts.values.map((v) => `${v.labels.mode} ${v.labels.start} ${v.value}`).join(', ')}`);
    console.log('"orchestration" is Temporal\'s cost: the API\'s wall time around the workflow minus the stages the activities measured.');
  } finally {
    await separate.close();
    await connection.close();
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
