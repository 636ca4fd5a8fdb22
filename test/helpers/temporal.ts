import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { cacheRoot, QUERY_NAMESPACE } from '../../lib/config';
import { RAG_SEARCH_ATTRIBUTES } from '../../lib/search-attributes';

/** The Temporal CLI that scripts/setup.sh builds; tests use the real dev server, never a mock. */
export function temporalBinary(): string {
  const path = join(cacheRoot(), 'bin', 'temporal');
  if (!existsSync(path)) throw new Error(`Temporal CLI not found at ${path}; run: npm run setup`);
  return path;
}

/** As scripts/start.sh runs the dev server: fairness by tenant on, one partition per task queue. */
const DEV_SERVER_DYNAMIC_CONFIG = ['matching.enableFairness=true', 'matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'].flatMap((value) => ['--dynamic-config-value', value]);

/**
 * With the query namespace next to `default` and the platform's search attributes registered in
 * both, as scripts/start.sh does; `uiPort` also serves the Temporal UI.
 */
export async function startTemporalDevServer(options: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error', '--namespace', QUERY_NAMESPACE, ...DEV_SERVER_DYNAMIC_CONFIG],
      searchAttributes: [...RAG_SEARCH_ATTRIBUTES],
      ...(options.uiPort !== undefined && { ui: true, uiPort: options.uiPort }),
    },
  });
}

/** A client of the query namespace on the server's connection: where query and answer runs are. */
export function queryClient(env: TestWorkflowEnvironment): Client {
  return new Client({ connection: env.connection, namespace: QUERY_NAMESPACE });
}

/** Polls until `check` returns a value or the deadline passes; the last value is in the error. */
export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

/** Every execution a visibility query matches (as the Temporal UI's query box lists them). */
export async function listWorkflows(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const runs: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({ query })) runs.push(execution);
  return runs;
}

/**
 * A history as text, every payload's data shown as UTF-8 (not base64): what the Temporal server
 * stores, read as an attacker with the database would. With a codec, payloads are decoded first:
 * what an operator sees through the codec server.
 */
export async function historyText(history: unknown, codec?: PayloadCodec | null): Promise<string> {
  const tree = JSON.parse(JSON.stringify(history));
  const payloads: Record<string, any>[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, any>;
    if (typeof record.data === 'string' && record.metadata && typeof record.metadata === 'object') payloads.push(record);
    for (const value of Object.values(record)) visit(value);
  };
  visit(tree);
  for (const record of payloads) {
    const payload: Payload = { metadata: Object.fromEntries(Object.entries(record.metadata as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(record.data, 'base64') };
    const [shown] = codec ? await codec.decode([payload]) : [payload];
    record.metadata = Object.fromEntries(Object.entries(shown?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('utf8')]));
    record.data = Buffer.from(shown?.data ?? []).toString('utf8');
  }
  return JSON.stringify(tree);
}
