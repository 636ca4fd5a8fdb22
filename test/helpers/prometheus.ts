import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net';
import { waitFor } from './temporal';

function binary(name: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export interface PrometheusServer {
  url: string;
  /** One instant PromQL query: each series' labels and value. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** The value of a query that yields one series, or null when it yields none. */
  scalar(promql: string): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * A throwaway Prometheus (Debian's package, installed by scripts/setup.sh for the tests) on a
 * loopback port, scraping the given targets every second, with the given rule files loaded.
 */
export async function startPrometheus(targets: Record<string, string[]>, ruleFiles: string[] = []): Promise<PrometheusServer> {
  const executable = binary('prometheus');
  if (!executable) throw new Error(startPrometheus.unavailable());
  const dir = mkdtempSync(join(tmpdir(), 'rag-prometheus-'));
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    scrape_configs: Object.entries(targets).map(([job, addresses]) => ({ job_name: job, static_configs: [{ targets: addresses }] })),
  };
  // JSON is YAML: no YAML writer needed.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const server = spawn(executable, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const query = async (promql: string) => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error}`);
    return body.data.result.map((series) => ({ metric: series.metric, value: Number(series.value[1]) }));
  };
  await waitFor('prometheus to answer', () => fetch(`${url}/-/ready`).then((r) => r.status, () => 0), (status) => status === 200, 30_000, 200);
  return {
    url,
    query,
    async scalar(promql) {
      const result = await query(promql);
      if (result.length > 1) throw new Error(`PromQL ${promql}: ${result.length} series, expected one`);
      return result[0]?.value ?? null;
    },
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((done) => server.once('exit', done));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Why Prometheus tests skip here, or '' when they can run. */
startPrometheus.unavailable = (): string => (binary('prometheus') ? '' : "no prometheus installed (scripts/setup.sh installs Debian's as root for the tests; SKIP_PROMETHEUS=1 skips it)");

/** promtool from the same package, or null. */
export const promtoolPath = (): string | null => binary('promtool');
