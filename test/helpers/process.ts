import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './net';
import { apiClient, issueKey, TEST_OPERATOR_KEY, UNTHROTTLED } from './stack';
import { waitFor } from './temporal';

const ROOT = resolve(__dirname, '../..');

/**
 * The zero-setup deployment (API + workers, workers/all-in-one.ts) as a child process on its own
 * loopback port and data directory, so a test can kill it with SIGKILL and start it again on the
 * same data. `settings` are its environment on top of ours; output goes to `dataDir/process.log`.
 */
export async function allInOne(options: { temporalAddress: string; dataDir: string; settings: Record<string, string> }) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: options.temporalAddress,
    DATA_DIR: options.dataDir,
    HTTP_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    BOOTSTRAP_ADMIN_KEY: TEST_OPERATOR_KEY,
    ...options.settings,
  };
  // Tenant `default`, every scope: issued on the first start, valid across restarts (it is stored).
  let apiKey: string | undefined;
  const api = apiClient(`http://127.0.0.1:${env.HTTP_PORT}`, () => apiKey);
  let child: ChildProcess | undefined;
  const exited = (proc: ChildProcess) => new Promise<void>((done) => (proc.exitCode !== null || proc.signalCode !== null ? done() : proc.once('exit', () => done())));
  return {
    /** The process's environment: open its stores in the test with `loadConfig(env)` once it has stopped. */
    env,
    api,
    /** Starts the process and waits until its API answers. */
    async start(): Promise<void> {
      const log = openSync(join(options.dataDir, 'process.log'), 'a');
      child = spawn(process.execPath, ['--import', 'tsx', 'workers/all-in-one.ts'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
      await waitFor('the API to answer', () => api.get('/healthz').catch(() => ({ status: 0 })), (r) => r.status === 200, 60_000, 200);
      apiKey ??= await issueKey(apiClient(api.baseUrl, TEST_OPERATOR_KEY), 'default', undefined, UNTHROTTLED);
    },
    async stop(signal: NodeJS.Signals): Promise<void> {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited(child);
    },
  };
}

/**
 * One process of a production-shaped deployment (the API, api/server.ts, or a worker,
 * workers/main.ts) with its own environment; output goes to `logFile`. `ready` waits for the API
 * to answer, when it is one.
 */
export function serviceProcess(entry: 'api/server.ts' | 'workers/main.ts', env: NodeJS.ProcessEnv, logFile: string) {
  let child: ChildProcess | undefined;
  const exited = (proc: ChildProcess) => new Promise<void>((done) => (proc.exitCode !== null || proc.signalCode !== null ? done() : proc.once('exit', () => done())));
  return {
    start(): void {
      const log = openSync(logFile, 'a');
      child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', log, log] });
    },
    get exitCode(): number | null {
      return child?.exitCode ?? null;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited(child);
    },
  };
}
