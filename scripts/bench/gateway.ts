import autocannon from 'autocannon';
import { buildApp } from '../../api/app';
import { POLICIES } from '../../test/helpers/fixtures';
import { ingestPolicies, issueKey, startStack } from '../../test/helpers/stack';
import { round } from './ingest';

interface Target {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

const option = (args: string[], name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

/**
 * The gateway's cost, over loopback with autocannon: the same routes on one platform (same
 * Temporal, workers and stores) through two API instances, one with auth, rate limits, token
 * budgets, guardrails and the audit log on, one with all of them off. Rising concurrency prints
 * throughput, p50/p95/p99 and error counts; then a soak of several minutes samples memory.
 *
 * Routes: a document read (the gateway around one SQL read: its overhead shows plainly) and a
 * retrieval query (the gateway around a Temporal workflow: input guard, budget, audit insert).
 */
export async function benchGateway(args: string[]): Promise<void> {
  const seconds = option(args, 'seconds', 8);
  const soakMinutes = option(args, 'soak-minutes', 3);
  const levels = (args.find((a) => a.startsWith('--concurrency='))?.split('=')[1] ?? '1,4,16,64').split(',').map(Number);
  const stack = await startStack({ LOG_LEVEL: 'warn' });
  const off = await buildApp({ platform: { ...stack.platform, config: { ...stack.platform.config, GATEWAY_AUTH: 'off', RATE_LIMITS: 'off', GUARDRAILS: 'off' } }, temporal: stack.env.client });
  try {
    await ingestPolicies(stack.api);
    const offUrl = await off.listen({ host: '127.0.0.1', port: 0 });
    // A key whose own rate limit is far above what the machine can send: the limiter runs, never refuses.
    const key = await issueKey(stack.operator, 'default', ['ingest', 'query'], { rateLimitPerMinute: 1_000_000 });
    const documentId = Object.keys(POLICIES)[0] as string;
    const targets: Target[] = [
      { name: 'GET /v1/documents/:id', method: 'GET', path: `/v1/documents/${documentId}` },
      { name: 'POST /v1/query (retrieve)', method: 'POST', path: '/v1/query', body: JSON.stringify({ collection: 'policies', question: 'How many vacation days do employees get per year?', mode: 'retrieve', topK: 3 }) },
    ];

    console.log(`gateway on: ${stack.baseUrl}   gateway off: ${offUrl}   ${seconds} s per level, concurrency ${levels.join(', ')}`);
    const rows: Record<string, unknown>[] = [];
    for (const target of targets) {
      for (const connections of levels) {
        const on = await load(stack.baseUrl, target, connections, seconds, { authorization: `Bearer ${key}` });
        const bare = await load(offUrl, target, connections, seconds, {});
        const row = { route: target.name, connections, on, off: bare, overheadP50Ms: round(on.p50 - bare.p50, 2), overheadP95Ms: round(on.p95 - bare.p95, 2), throughputRatio: round(on.requestsPerSecond / bare.requestsPerSecond, 3) };
        rows.push(row);
        console.log(
          `${target.name.padEnd(26)} c=${String(connections).padStart(2)}  on: ${fmt(on)}  |  off: ${fmt(bare)}  |  overhead p50 ${row.overheadP50Ms} ms, p95 ${row.overheadP95Ms} ms, throughput ×${row.throughputRatio}`,
        );
      }
    }

    const soak = await soakMemory(stack.baseUrl, targets[1] as Target, key, soakMinutes);
    console.log(JSON.stringify({ benchmark: 'gateway', seconds, levels, rows, soak }));
  } finally {
    await off.close();
    await stack.close();
  }
}

async function load(baseUrl: string, target: Target, connections: number, seconds: number, headers: Record<string, string>): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${baseUrl}${target.path}`,
        method: target.method,
        body: target.body,
        headers: { ...headers, ...(target.body && { 'content-type': 'application/json' }) },
        connections,
        duration: seconds,
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    // autocannon's own summary has p97.5 but no p95: percentiles come from every response's time.
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  latencies.sort((a, b) => a - b);
  const at = (q: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0, 2);
  return {
    requestsPerSecond: round(result.requests.total / seconds, 1),
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/** Load at steady concurrency for minutes; the process's memory sampled every 10 s after a GC when available. */
async function soakMemory(baseUrl: string, target: Target, key: string, minutes: number) {
  const samples: { atSeconds: number; rssMiB: number; heapMiB: number }[] = [];
  const started = Date.now();
  const sample = () => {
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    samples.push({ atSeconds: Math.round((Date.now() - started) / 1000), rssMiB: round(memory.rss / 1048576, 1), heapMiB: round(memory.heapUsed / 1048576, 1) });
  };
  sample();
  const timer = setInterval(sample, 10_000);
  const result = await load(baseUrl, target, 8, minutes * 60, { authorization: `Bearer ${key}` });
  clearInterval(timer);
  sample();
  // Compare the second minute with the last: the first holds warm-up (JIT, pools, caches).
  const window = (from: number, to: number) => samples.filter((s) => s.atSeconds >= from && s.atSeconds < to);
  const mean = (list: typeof samples, field: 'rssMiB' | 'heapMiB') => round(list.reduce((sum, s) => sum + s[field], 0) / Math.max(1, list.length), 1);
  const early = window(60, 120);
  const late = window(minutes * 60 - 60, minutes * 60 + 30);
  const summary = {
    minutes,
    requests: result.total,
    requestsPerSecond: result.requestsPerSecond,
    p50: result.p50,
    p95: result.p95,
    p99: result.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    heapMiB: { secondMinute: mean(early, 'heapMiB'), lastMinute: mean(late, 'heapMiB') },
    rssMiB: { secondMinute: mean(early, 'rssMiB'), lastMinute: mean(late, 'rssMiB') },
    samples,
  };
  console.log(
    `soak ${minutes} min at c=8 on ${target.name}: ${result.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors; ` +
      `heap ${summary.heapMiB.secondMinute} → ${summary.heapMiB.lastMinute} MiB, RSS ${summary.rssMiB.secondMinute} → ${summary.rssMiB.lastMinute} MiB (second minute → last minute)`,
  );
  return summary;
}

function fmt(result: LoadResult): string {
  return `${String(result.requestsPerSecond).padStart(7)} req/s p50 ${result.p50} p95 ${result.p95} p99 ${result.p99} ms, ${result.non2xx} non-2xx, ${result.errors} errors`;
}
