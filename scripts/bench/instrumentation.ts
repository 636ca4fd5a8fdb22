import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../../lib/config';
import { startStack } from '../../test/helpers/stack';
import { EmbeddingCache, seedCollection } from '../eval/seed';

/**
 * What tracing costs a `retrieve` query: the same queries against a stack with tracing off and one
 * with every span recorded and exported over OTLP (to a loopback receiver that accepts and drops),
 * in alternating rounds (off, on, off, on) so drift on a noisy machine hits both alike. Metrics
 * are recorded in both: prom-client cannot be switched off, and its cost is in both columns.
 */
export async function benchInstrumentation(args: string[]): Promise<{ offP50Ms: number; onP50Ms: number; overheadP50Ms: number; queriesPerRound: number; rounds: number }> {
  const queries = Number(args.find((a) => a.startsWith('--overhead-queries='))?.split('=')[1] ?? 80);
  const rounds = 4;
  const collector = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((listening) => collector.listen(0, '127.0.0.1', listening));
  const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  const docsDir = join(dirname(require.resolve('fastify/package.json')), 'docs', 'Reference');
  const documents = readdirSync(docsDir)
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => ({ documentId: file.replace(/\.md$/, '').toLowerCase(), bytes: readFileSync(join(docsDir, file)), mediaType: 'text/markdown' as const, title: file, metadata: {} }));
  const questions = (JSON.parse(readFileSync(join(__dirname, '..', 'eval', 'questions', 'fastify.json'), 'utf8')) as { questions: { question: string }[] }).questions.map((q) => q.question);
  const samples: Record<'off' | 'on', number[]> = { off: [], on: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const mode = round % 2 === 0 ? 'off' : 'on';
      const stack = await startStack(mode === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } : {});
      try {
        await seedCollection(stack.platform, 'default', 'bench', documents, new EmbeddingCache(join(cacheRoot(), 'eval-embeddings')));
        const ask = (question: string) => stack.api.postJson('/v1/query', { collection: 'bench', question, mode: 'retrieve', topK: 5 });
        for (const question of questions.slice(0, 5)) await ask(question);
        for (let i = 0; i < queries; i++) {
          const sent = performance.now();
          const response = await ask(questions[i % questions.length] as string);
          if (response.status !== 200) throw new Error(`query answered ${response.status}: ${JSON.stringify(response.body)}`);
          samples[mode].push(performance.now() - sent);
        }
      } finally {
        await stack.close();
      }
    }
  } finally {
    await new Promise((closed) => collector.close(closed));
  }
  const offP50Ms = median(samples.off);
  const onP50Ms = median(samples.on);
  return { offP50Ms: round1(offP50Ms), onP50Ms: round1(onP50Ms), overheadP50Ms: round1(onP50Ms - offP50Ms), queriesPerRound: queries, rounds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;
