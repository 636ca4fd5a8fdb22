import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/net';
import { temporalBinary, waitFor } from '../helpers/temporal';

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * `npm start` as a user runs it: the stack comes up, and one SIGTERM to the npm process stops all
 * of it (npm forwards the signal to its script's shell, which must be the script itself: exec).
 */
describe('the start command', () => {
  it('brings up API, workers and the Temporal dev server (a namespace for queries, one for durable runs), and stops them all within 10 s of a SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rag-start-'));
    const [http, temporal, ui] = [await freePort(), await freePort(), await freePort()];
    const child = spawn('npm', ['start'], {
      env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: String(http), TEMPORAL_PORT: String(temporal), TEMPORAL_UI_PORT: String(ui), TEMPORAL_ADDRESS: `127.0.0.1:${temporal}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('the API to answer', async () => (await fetch(`http://127.0.0.1:${http}/healthz`).catch(() => null))?.status ?? 0, (status) => status === 200, 180_000, 250);
      assert.ok(await listening(temporal), 'the Temporal dev server listens');
      const retention = (namespace: string) =>
        /WorkflowExecutionRetentionTtl\s+(\S+)/.exec(execFileSync(temporalBinary(), ['operator', 'namespace', 'describe', '--namespace', namespace, '--address', `127.0.0.1:${temporal}`], { encoding: 'utf8' }))?.[1];
      assert.equal(retention('default'), '720h0m0s', 'ingestion, re-index and deletion runs are kept 30 days');
      assert.equal(retention('rag-queries'), '24h0m0s', 'query runs, in a namespace of their own, one day');
      assert.match(output, /namespaces\/rag-queries\/workflows \(queries\)/, 'the start command says where each kind of run is');
      const stopping = Date.now();
      child.kill('SIGTERM');
      await exited;
      const took = Date.now() - stopping;
      assert.ok(took < 10_000, `stopped after ${took} ms`);
      assert.equal(await listening(http), false, 'the API is gone');
      assert.equal(await listening(temporal), false, 'the Temporal dev server is gone');
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- output ---\n${output.slice(-3000)}`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
