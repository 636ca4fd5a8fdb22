import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { cacheRoot } from '../../lib/config';
import { RAG_SEARCH_ATTRIBUTES } from '../../lib/search-attributes';

/** The Temporal CLI that scripts/setup.sh builds; tests use the real dev server, never a mock. */
export function temporalBinary(): string {
  const path = join(cacheRoot(), 'bin', 'temporal');
  if (!existsSync(path)) throw new Error(`Temporal CLI not found at ${path}; run: npm run setup`);
  return path;
}

/** With the platform's search attributes registered, as scripts/start.sh does; `uiPort` also serves the Temporal UI. */
export async function startTemporalDevServer(options: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error'],
      searchAttributes: [...RAG_SEARCH_ATTRIBUTES],
      ...(options.uiPort !== undefined && { ui: true, uiPort: options.uiPort }),
    },
  });
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
