import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { loadConfig } from '../../lib/config';
import { openPlatform, type Platform } from '../../lib/platform';
import { freePort } from '../helpers/net';
import { apiClient, type ApiClient } from '../helpers/stack';

/** Temporal out of reach (nothing listens on its address): what depends on it answers 503 in seconds, the rest works. */
describe('with Temporal unreachable', () => {
  let dir: string;
  let platform: Platform;
  let app: FastifyInstance;
  let api: ApiClient;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rag-outage-'));
    const address = `127.0.0.1:${await freePort()}`;
    platform = await openPlatform(loadConfig({ ...process.env, DATA_DIR: dir, TEMPORAL_ADDRESS: address, GATEWAY_AUTH: 'off', RATE_LIMITS: 'off' }));
    app = await buildApp({ platform, temporal: new Client({ connection: Connection.lazy({ address }) }) });
    api = apiClient(await app.listen({ host: '127.0.0.1', port: 0 }));
  });
  after(async () => {
    await app?.close();
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const timed = async (what: string, call: () => Promise<{ status: number; body: any }>, status: number, code: string) => {
    const started = Date.now();
    const response = await call();
    const elapsed = Date.now() - started;
    assert.deepEqual([response.status, response.body.error?.code], [status, code], `${what}: ${JSON.stringify(response.body)}`);
    assert.ok(elapsed < 8_000, `${what} answered after ${elapsed} ms`);
  };

  it('answers uploads, queries and deletions 503 orchestrator_unavailable within seconds, changing nothing', async () => {
    assert.equal((await api.postJson('/v1/collections', { name: 'notes' })).status, 201, 'what needs no workflow still works');
    await timed('upload', () => api.postJson('/v1/collections/notes/documents', { text: 'Lockers are emptied on Fridays.', documentId: 'lockers' }), 503, 'orchestrator_unavailable');
    await timed('retrieve', () => api.postJson('/v1/query', { collection: 'notes', question: 'When are lockers emptied?', mode: 'retrieve' }), 503, 'orchestrator_unavailable');
    await timed('answer', () => api.postJson('/v1/query', { collection: 'notes', question: 'When are lockers emptied?' }), 503, 'orchestrator_unavailable');
    await timed('streamed answer', () => api.postJson('/v1/query', { collection: 'notes', question: 'When are lockers emptied?', stream: true }), 503, 'orchestrator_unavailable');
    await timed('collection deletion', () => api.delete('/v1/collections/notes'), 503, 'orchestrator_unavailable');
    assert.equal((await api.get('/v1/collections/notes')).status, 200, 'the refused deletion changed nothing');
  });

  it('stays live but not ready, and says what is missing', async () => {
    assert.equal((await api.get('/healthz')).status, 200);
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.status, 'not_ready');
    assert.equal(ready.body.checks.database, 'ok');
    assert.equal(ready.body.checks.index, 'ok');
    assert.match(ready.body.checks.temporal, /^unavailable: /);
  });
});
