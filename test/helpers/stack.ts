import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { loadConfig } from '../../lib/config';
import { openPlatform, type Platform } from '../../lib/platform';
import { createPlatformWorkers } from '../../workers';
import { POLICIES } from './fixtures';
import { queryClient, startTemporalDevServer, waitFor } from './temporal';

export interface Stack {
  /** Its client is in the durable namespace: ingestion, re-index and deletion runs. */
  env: TestWorkflowEnvironment;
  /** The query namespace: query and answer runs. */
  queries: Client;
  platform: Platform;
  app: FastifyInstance;
  baseUrl: string;
  /** A key of tenant `default` with every scope. */
  apiKey: string;
  /** The client the tests use: tenant `default`, every scope. */
  api: ApiClient;
  /** An operator's client (admin of the `platform` tenant): creates tenants and keys. */
  operator: ApiClient;
  close(): Promise<void>;
}

/** The operator key the test deployments register (BOOTSTRAP_ADMIN_KEY); never a real secret. */
export const TEST_OPERATOR_KEY = 'rag_test-operator-key-0123456789abcdefghijkl';

/** The tests' own keys poll every 100 ms for minutes: rate limits are tested with keys of their own. */
export const UNTHROTTLED = { rateLimitPerMinute: 1_000_000 };

/** Issues a key through the admin API, as an operator would. */
export async function issueKey(operator: ApiClient, tenantId: string, scopes: string[] = ['ingest', 'query', 'admin'], extra: Record<string, unknown> = {}): Promise<string> {
  const issued = await operator.postJson(`/v1/admin/tenants/${tenantId}/keys`, { name: `test key (${scopes.join(', ')})`, scopes, ...extra });
  if (issued.status !== 201) throw new Error(`issuing a key for ${tenantId} answered ${issued.status}: ${JSON.stringify(issued.body)}`);
  return issued.body.key as string;
}

/**
 * The whole platform in this process over real parts: Temporal dev server, workers, the API
 * listening on a loopback port, embedded stores in a temporary directory.
 */
export async function startStack(overrides: Record<string, string> = {}, options: { temporalUiPort?: number } = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rag-stack-'));
  const env = await startTemporalDevServer({ uiPort: options.temporalUiPort });
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0', TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', BOOTSTRAP_ADMIN_KEY: TEST_OPERATOR_KEY, ...overrides });
  const platform = await openPlatform(config);
  const workers = await createPlatformWorkers(platform, { address: env.address });
  const running = workers.run();
  // Over the workers' connection, as `npm start` runs it: query runs start eagerly.
  const app = await buildApp({ platform, temporal: new Client({ connection: workers.connection, namespace: config.TEMPORAL_NAMESPACE }) });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const operator = apiClient(baseUrl, TEST_OPERATOR_KEY);
  const apiKey = config.GATEWAY_AUTH === 'on' ? await issueKey(operator, 'default', undefined, UNTHROTTLED) : '';
  return {
    env,
    queries: queryClient(env),
    platform,
    app,
    baseUrl,
    apiKey,
    api: apiClient(baseUrl, apiKey),
    operator,
    async close() {
      await app.close();
      await workers.shutdown();
      await running;
      await platform.close();
      await env.teardown();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** A small HTTP client for the API: JSON in, `{ status, body, headers }` out; sends the API key when given one. */
export function apiClient(baseUrl: string, key?: string | (() => string | undefined)) {
  const keyNow = () => (typeof key === 'function' ? key() : key);
  const call = async (method: string, path: string, init: { json?: unknown; form?: FormData; raw?: { body: string | Uint8Array; contentType: string } } = {}) => {
    const apiKey = keyNow();
    const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
    let body: RequestInit['body'];
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form) {
      body = init.form;
    } else if (init.raw) {
      headers['content-type'] = init.raw.contentType;
      body = init.raw.body as RequestInit['body'];
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
  return {
    baseUrl,
    get apiKey() {
      return keyNow();
    },
    /** Any method; a JSON body when given one. */
    send: (method: string, path: string, json?: unknown) => call(method, path, json === undefined ? {} : { json }),
    get: (path: string) => call('GET', path),
    delete: (path: string) => call('DELETE', path),
    postJson: (path: string, json: unknown) => call('POST', path, { json }),
    putJson: (path: string, json: unknown) => call('PUT', path, { json }),
    postRaw: (path: string, body: string | Uint8Array, contentType: string) => call('POST', path, { raw: { body, contentType } }),
    upload: (collection: string, file: { bytes: Uint8Array; filename: string; type: string }, fields: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([file.bytes], { type: file.type }), file.filename);
      return call('POST', `/v1/collections/${collection}/documents`, { form });
    },
  };
}

/** Waits until the document is `ready` (and, when given, serves that version). */
export async function waitReady(api: ApiClient, id: string, version?: number) {
  return waitFor(`${id} ready`, async () => (await api.get(`/v1/documents/${id}`)).body, (d) => d.stage === 'ready' && (version === undefined || d.activeVersion === version), 180_000, 200);
}

/** Uploads the policies fixture into `collection` and waits until every one is ready. */
export async function ingestPolicies(api: ApiClient, collection = 'policies'): Promise<void> {
  for (const [id, policy] of Object.entries(POLICIES)) {
    const response = await api.postJson(`/v1/collections/${collection}/documents`, { text: policy.text, mediaType: 'text/markdown', documentId: id, metadata: { team: policy.team } });
    if (response.status !== 202) throw new Error(`upload of ${id} answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  for (const id of Object.keys(POLICIES)) {
    await waitFor(`${id} ready`, async () => (await api.get(`/v1/documents/${id}`)).body, (doc) => doc.stage === 'ready');
  }
}

/** POSTs a streamed query and collects its server-sent events in order. */
export async function streamQuery(client: { baseUrl: string; apiKey?: string }, body: unknown): Promise<{ status: number; contentType: string | null; events: { event: string; data: any }[] }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(client.apiKey && { authorization: `Bearer ${client.apiKey}` }) };
  const response = await fetch(`${client.baseUrl}/v1/query`, { method: 'POST', headers, body: JSON.stringify({ ...(body as object), stream: true }) });
  const text = await response.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event, data: JSON.parse(data) };
    });
  return { status: response.status, contentType: response.headers.get('content-type'), events };
}
