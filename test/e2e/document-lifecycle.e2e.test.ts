import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../lib/config';
import { openPlatform } from '../../lib/platform';
import { countPoints } from '../helpers/points';
import { allInOne } from '../helpers/process';
import { startStack, waitReady, type ApiClient, type Stack } from '../helpers/stack';
import { startTemporalDevServer, waitFor } from '../helpers/temporal';

const words = (seed: string, n: number) => Array.from({ length: n }, (_, i) => `${seed}${i % 37} ${['river', 'harbour', 'lantern', 'orchard', 'granite'][i % 5]}`).join(' ');
/** A Markdown document whose sections hold a unique word each, long enough to take a while to embed. */
const markdown = (unique: string, sections = 4) =>
  `# ${unique}\n\n` + Array.from({ length: sections }, (_, i) => `## Part ${i}\n\nThe ${unique} section ${i} says ${words(unique, 60)}.`).join('\n\n');

async function waitDeleted(api: ApiClient, id: string) {
  return waitFor(`${id} deleted`, async () => (await api.get(`/v1/documents/${id}/deletion`)).body, (d) => d.status === 'completed', 180_000, 200);
}

const found = async (api: ApiClient, collection: string, question: string) =>
  (await api.postJson('/v1/query', { collection, question, mode: 'retrieve', topK: 10 })).body.chunks as { documentId: string; version: number; text: string }[];

describe('document identity and deletion', () => {
  let stack: Stack;
  let api: ApiClient;
  before(async () => {
    stack = await startStack();
    api = stack.api;
  });
  after(() => stack?.close());

  const points = (collection: string, documentId: string) =>
    countPoints(stack.platform, { collection, documentId });

  it('deletes durably and takes the same bytes back as a newer version, under its id and under the derived id', async () => {
    const text = markdown('quokka', 2);
    const first = await api.postJson('/v1/collections/life/documents', { text, mediaType: 'text/markdown', documentId: 'kept' });
    assert.equal(first.status, 202);
    await waitReady(api, 'kept');
    const deletion = await api.delete('/v1/documents/kept');
    assert.equal(deletion.status, 202, JSON.stringify(deletion.body));
    assert.deepEqual([deletion.body.throughVersion, deletion.body.workflowId, deletion.body.statusUrl], [1, 'delete/default/kept/v1', '/v1/documents/kept/deletion']);
    assert.equal((await api.get('/v1/documents/kept')).status, 404, 'invisible at once');
    assert.ok(!(await found(api, 'life', 'quokka river')).some((c) => c.documentId === 'kept'), 'queries no longer see it');
    await waitDeleted(api, 'kept');
    assert.equal(await points('life', 'kept'), 0);

    // The upload that used to wedge in `queued` (its run id was the finished one's).
    const again = await api.postJson('/v1/collections/life/documents', { text, mediaType: 'text/markdown', documentId: 'kept' });
    assert.deepEqual([again.status, again.body.version, again.body.duplicate, again.body.workflowId], [202, 2, false, 'ingest/default/kept/v2']);
    await waitReady(api, 'kept', 2);
    assert.ok((await found(api, 'life', 'quokka river harbour')).some((c) => c.documentId === 'kept' && c.version === 2));

    const derived = await api.postJson('/v1/collections/life/documents', { text: markdown('wombat', 1), mediaType: 'text/markdown' });
    await waitReady(api, derived.body.documentId);
    assert.equal((await api.delete(`/v1/documents/${derived.body.documentId}`)).status, 202);
    await waitDeleted(api, derived.body.documentId);
    const derivedAgain = await api.postJson('/v1/collections/life/documents', { text: markdown('wombat', 1), mediaType: 'text/markdown' });
    assert.deepEqual([derivedAgain.status, derivedAgain.body.documentId, derivedAgain.body.version], [202, derived.body.documentId, 2]);
    await waitReady(api, derived.body.documentId, 2);
  });

  it('serves what was uploaded last: A, then B, then A again makes A active as a new version', async () => {
    const a = markdown('pangolin', 1);
    const b = markdown('axolotl', 1);
    for (const [text, version] of [[a, 1], [b, 2], [a, 3]] as const) {
      const upload = await api.postJson('/v1/collections/life/documents', { text, mediaType: 'text/markdown', documentId: 'aba' });
      assert.deepEqual([upload.status, upload.body.version], [202, version], JSON.stringify(upload.body));
      await waitReady(api, 'aba', version);
    }
    const hits = (await found(api, 'life', 'pangolin section says')).filter((c) => c.documentId === 'aba');
    assert.ok(hits.length > 0 && hits.every((c) => c.version === 3), JSON.stringify(hits.map((c) => c.version)));
    assert.ok(!(await found(api, 'life', 'axolotl section says')).some((c) => c.documentId === 'aba' && c.text.includes('axolotl')), "B's text no longer answers");
  });

  it('answers 200 to a second upload of the same bytes while the first is in flight, and 202 only when a run starts', async () => {
    const text = markdown('narwhal', 1);
    const [one, two] = await Promise.all([0, 1].map(() => api.postJson('/v1/collections/life/documents', { text, mediaType: 'text/markdown', documentId: 'twice' })));
    const statuses = [one, two].map((r) => [r?.status, r?.body.duplicate]).sort();
    assert.deepEqual(statuses, [[200, true], [202, false]]);
    await waitReady(api, 'twice');
  });

  it('deletes a document while it is being ingested, and ingests the same bytes uploaded right after as a newer version', async () => {
    const text = markdown('okapi', 40);
    const upload = await api.postJson('/v1/collections/life/documents', { text, mediaType: 'text/markdown', documentId: 'busy' });
    assert.equal(upload.status, 202);
    await waitFor('busy embedding', async () => (await api.get('/v1/documents/busy')).body, (d) => d.stage === 'embedding', 60_000, 50);
    assert.equal((await api.delete('/v1/documents/busy')).status, 202);
    const back = await api.postJson('/v1/collections/life/documents', { text, mediaType: 'text/markdown', documentId: 'busy' });
    assert.deepEqual([back.status, back.body.version], [202, 2], 'a new version, not the run being cancelled');
    await waitReady(api, 'busy', 2);
    await waitFor('the deletion', async () => (await stack.env.client.workflow.getHandle('delete/default/busy/v1').describe()).status.name, (s) => s === 'COMPLETED', 120_000, 200);
    const first = await stack.env.client.workflow.getHandle('ingest/default/busy/v1').describe();
    assert.equal(first.status.name, 'CANCELLED', 'the writer was stopped before cleanup');
    const held = await countPoints(stack.platform, { collection: 'life', documentId: 'busy' });
    const doc = (await api.get('/v1/documents/busy')).body;
    assert.equal(held, doc.chunkCount, 'only the new version has points');
    assert.deepEqual(doc.versions.map((v: any) => v.version), [2], 'the deleted version is gone');
  });
});

describe('deletion survives a crash', () => {
  let env: TestWorkflowEnvironment;
  const dataDir = mkdtempSync(join(tmpdir(), 'rag-delete-crash-'));
  before(async () => {
    env = await startTemporalDevServer();
  });
  after(async () => {
    await env?.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes after the process is killed mid-deletion and leaves no points or bytes behind', async () => {
    const proc = await allInOne({ temporalAddress: env.address, dataDir, settings: {} });
    const text = markdown('tapir', 30);
    const sha256 = createHash('sha256').update(new TextEncoder().encode(text)).digest('hex');
    await proc.start();
    try {
      const upload = await proc.api.postJson('/v1/collections/crash/documents', { text, mediaType: 'text/markdown', documentId: 'doomed' });
      assert.equal(upload.status, 202);
      await waitFor('doomed embedding', async () => (await proc.api.get('/v1/documents/doomed')).body, (d) => d.stage === 'embedding', 60_000, 50);
      const deletion = await proc.api.delete('/v1/documents/doomed');
      assert.equal(deletion.status, 202);
      await proc.stop('SIGKILL');
      const run = await env.client.workflow.getHandle(deletion.body.workflowId).describe();
      assert.equal(run.status.name, 'RUNNING', 'killed while the deletion was still under way');

      await proc.start();
      await waitDeleted(proc.api, 'doomed');
      assert.equal((await proc.api.get('/v1/documents/doomed')).status, 404);
    } finally {
      await proc.stop('SIGTERM');
    }
    const platform = await openPlatform(loadConfig(proc.env));
    try {
      assert.equal(await countPoints(platform, { collection: 'crash', documentId: 'doomed' }), 0, 'no points left');
      assert.equal((await platform.db.query("select 1 from document_versions where document_id = 'doomed'")).length, 0, 'no versions left');
      assert.equal(await platform.blobs.exists(platform.blobs.rawKey(sha256)), false, 'its bytes are removed');
    } finally {
      await platform.close();
    }
  });
});

