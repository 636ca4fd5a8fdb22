import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QdrantClient } from '@qdrant/js-client-rest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { POLICIES } from '../helpers/fixtures';
import { freePort } from '../helpers/net';
import { postgresBinDir, startTemporaryPostgres, type TemporaryPostgres } from '../helpers/postgres';
import { serviceProcess } from '../helpers/process';
import { apiClient, issueKey, streamQuery, TEST_OPERATOR_KEY, UNTHROTTLED, type ApiClient } from '../helpers/stack';
import { startTemporalDevServer, waitFor } from '../helpers/temporal';

const qdrantUrl = process.env.QDRANT_URL;
const skip = postgresBinDir() ? undefined : "no PostgreSQL server installed (scripts/setup.sh installs Debian's postgresql as root)";

/**
 * The deployment docker-compose describes, with processes instead of containers: Postgres for
 * metadata (Debian's server), two API processes and a worker started at the same moment (the
 * schema migrates once, under its lock), and Qdrant as the index when QDRANT_URL is set (the
 * embedded index in Postgres otherwise). Streamed answers cross processes: the worker publishes,
 * the API that holds the client's connection relays.
 */
describe(`production topology: Postgres, 2 API processes and a worker, ${qdrantUrl ? `Qdrant at ${qdrantUrl}` : 'embedded index'}`, { skip }, () => {
  let postgres: TemporaryPostgres;
  let temporal: TestWorkflowEnvironment;
  const dataDir = mkdtempSync(join(tmpdir(), 'rag-topology-'));
  const processes: ReturnType<typeof serviceProcess>[] = [];
  const apis: ApiClient[] = [];
  // Each run its own tenant, so a shared Qdrant server keeps earlier runs' points apart.
  const tenant = `topo${Date.now().toString(36)}`;

  before(async () => {
    [postgres, temporal] = await Promise.all([startTemporaryPostgres(), startTemporalDevServer()]);
    const common = {
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporal.address,
      DATA_DIR: dataDir,
      BOOTSTRAP_ADMIN_KEY: TEST_OPERATOR_KEY,
      ...(qdrantUrl ? { VECTOR_STORE: 'qdrant', QDRANT_URL: qdrantUrl } : {}),
    };
    const ports = [await freePort(), await freePort()];
    processes.push(serviceProcess('workers/main.ts', common, join(dataDir, 'worker.log')));
    ports.forEach((port, i) => processes.push(serviceProcess('api/server.ts', { ...common, HTTP_PORT: String(port) }, join(dataDir, `api-${i}.log`))));
    for (const p of processes) p.start();
    for (const port of ports) {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(`the API on ${port}`, () => fetch(`${base}/healthz`).then((r) => r.status).catch(() => 0), (s) => s === 200, 90_000, 200);
    }
    const operator = apiClient(`http://127.0.0.1:${ports[0]}`, TEST_OPERATOR_KEY);
    assert.equal((await operator.postJson('/v1/admin/tenants', { id: tenant, name: 'Topology' })).status, 201);
    const key = await issueKey(operator, tenant, undefined, UNTHROTTLED);
    for (const port of ports) apis.push(apiClient(`http://127.0.0.1:${port}`, key));
  });

  after(async () => {
    for (const p of processes) await p.stop('SIGTERM');
    await temporal?.teardown();
    await postgres?.stop();
    if (process.env.KEEP_TOPOLOGY_LOGS) console.log(readFileSync(join(dataDir, 'worker.log'), 'utf8'));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('all three processes came up on one database at once, the schema migrated once', async () => {
    assert.ok(processes.every((p) => p.exitCode === null), 'every process is running');
    const db = apiClient(apis[0]!.baseUrl, TEST_OPERATOR_KEY);
    assert.equal((await db.get('/healthz')).status, 200);
  });

  it('ingests through one API and answers through the other, streamed across processes', async () => {
    const [first, second] = apis as [ApiClient, ApiClient];
    for (const [id, policy] of Object.entries(POLICIES)) {
      const upload = await first.postJson('/v1/collections/policies/documents', { text: policy.text, mediaType: 'text/markdown', documentId: id, metadata: { team: policy.team } });
      assert.equal(upload.status, 202, JSON.stringify(upload.body));
    }
    for (const id of Object.keys(POLICIES)) await waitFor(`${id} ready`, async () => (await second.get(`/v1/documents/${id}`)).body, (d) => d.stage === 'ready', 120_000, 200);

    const retrieved = await second.postJson('/v1/query', { collection: 'policies', question: 'my laptop was stolen', mode: 'retrieve', topK: 3 });
    assert.equal(retrieved.body.chunks[0]?.documentId, 'security');
    const filtered = await second.postJson('/v1/query', { collection: 'policies', question: 'flights and hotels', mode: 'retrieve', topK: 5, filters: { team: 'hr' } });
    assert.ok(filtered.body.chunks.length > 0 && filtered.body.chunks.every((c: any) => c.documentId === 'travel'));

    const answer = await second.postJson('/v1/query', { collection: 'policies', question: 'How often must passwords be rotated?' });
    assert.equal(answer.body.found, true, JSON.stringify(answer.body));
    const streamed = await streamQuery(second, { collection: 'policies', question: 'How often must passwords be rotated?' });
    const final = streamed.events.at(-1);
    assert.equal(final?.event, 'answer', JSON.stringify(streamed.events));
    assert.equal(streamed.events.filter((e) => e.event === 'delta').map((e) => e.data.text).join(''), final?.data.answer, 'the relayed deltas are the answer');
  });

  it('re-indexes into the same space, swaps in Postgres, and deletes durably', async () => {
    const [first, second] = apis as [ApiClient, ApiClient];
    const run = await first.postJson('/v1/collections/policies/reindex', { chunkSizeTokens: 120, chunkOverlapTokens: 10 });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    await waitFor('the re-index', async () => (await second.get(`/v1/collections/policies/reindex/${run.body.id}`)).body, (r) => r.stage === 'done', 180_000, 500);
    assert.equal((await second.get('/v1/collections/policies')).body.liveGeneration, 2);
    const after = await second.postJson('/v1/query', { collection: 'policies', question: 'my laptop was stolen', mode: 'retrieve', topK: 3 });
    assert.equal(after.body.chunks[0]?.documentId, 'security');
    assert.equal((await first.delete('/v1/documents/travel')).status, 202);
    await waitFor('the deletion', async () => (await second.get('/v1/documents/travel/deletion')).body, (d) => d.status === 'completed', 60_000, 200);
    const gone = await second.postJson('/v1/query', { collection: 'policies', question: 'flights and hotels', mode: 'retrieve', topK: 5 });
    assert.ok(!gone.body.chunks.some((c: any) => c.documentId === 'travel'));
  });

  it('keeps one Qdrant collection per embedding model, whatever the tenants and generations', { skip: qdrantUrl ? undefined : 'the embedded index was used (QDRANT_URL is not set)' }, async () => {
    const names = (await new QdrantClient({ url: qdrantUrl as string, checkCompatibility: false }).getCollections()).collections.map((c) => c.name);
    const platformSpaces = names.filter((n) => n.startsWith('chunks_'));
    assert.deepEqual(platformSpaces, ['chunks_all-minilm-l6-v2-int8_384'], JSON.stringify(names));
    assert.ok(!names.some((n) => n.startsWith(`${tenant}__`)), 'no per-tenant or per-generation collections');
  });
});
