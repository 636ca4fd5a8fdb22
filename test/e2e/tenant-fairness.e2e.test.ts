import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, issueKey, startStack, UNTHROTTLED, type ApiClient, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

const BULK_DOCUMENTS = 200;
const markdown = (i: number) => `# Note ${i}\n\nThis is bulk note number ${i}. It records one fact about shipment ${i * 7} for the archive.`;

/**
 * Tenant fairness on the real dev server (fairness on, as scripts/start.sh runs it): tenant
 * `bulk` uploads 200 documents at once, then tenant `solo` uploads one. Every run carries its
 * tenant as the fairness key, so solo's tasks are dispatched between bulk's instead of behind all
 * of them, on every queue its run passes through (workflow, parse and index, embedding).
 */
describe('one tenant\'s bulk upload does not starve another tenant', () => {
  let stack: Stack;
  let bulk: ApiClient;
  let solo: ApiClient;
  before(async () => {
    stack = await startStack();
    for (const id of ['bulk', 'solo']) assert.equal((await stack.operator.postJson('/v1/admin/tenants', { id, name: id })).status, 201);
    bulk = apiClient(stack.baseUrl, await issueKey(stack.operator, 'bulk', ['ingest', 'query', 'admin'], UNTHROTTLED));
    solo = apiClient(stack.baseUrl, await issueKey(stack.operator, 'solo', ['ingest', 'query', 'admin'], UNTHROTTLED));
  });
  after(async () => stack?.close());

  it(`finishes the single upload while most of the ${BULK_DOCUMENTS} bulk documents still wait`, async () => {
    const uploads = await Promise.all(
      Array.from({ length: BULK_DOCUMENTS }, (_, i) => bulk.postJson('/v1/collections/archive/documents', { text: markdown(i), mediaType: 'text/markdown', documentId: `note-${i}` })),
    );
    assert.ok(uploads.every((u) => u.status === 202), JSON.stringify(uploads.find((u) => u.status !== 202)?.body));
    const bulkReady = async () => {
      const listed = (await bulk.get(`/v1/collections/archive/documents?limit=${BULK_DOCUMENTS}`)).body;
      return (listed.documents as { stage: string }[]).filter((d) => d.stage === 'ready').length;
    };
    const readyBefore = await bulkReady();

    const started = Date.now();
    const single = await solo.postJson('/v1/collections/inbox/documents', { text: '# Leave\n\nEmployees request leave two weeks ahead.', mediaType: 'text/markdown', documentId: 'leave' });
    assert.equal(single.status, 202, JSON.stringify(single.body));
    await waitFor('the single upload', async () => (await solo.get('/v1/documents/leave')).body.stage, (stage) => stage === 'ready', 180_000, 100);
    const soloMs = Date.now() - started;
    const readyWhenSoloDone = await bulkReady();

    const bulkStarted = Date.now();
    await waitFor('every bulk document', bulkReady, (ready) => ready === BULK_DOCUMENTS, 900_000, 1_000);
    const bulkRestMs = Date.now() - bulkStarted;
    console.log(`fairness: solo ready after ${soloMs} ms; bulk ready: ${readyBefore} when solo was sent, ${readyWhenSoloDone} when it was done, all ${BULK_DOCUMENTS} ${bulkRestMs} ms later`);
    // First in, first out, solo would have waited for (nearly) all of bulk's backlog.
    assert.ok(readyWhenSoloDone - readyBefore < BULK_DOCUMENTS / 4, `solo waited for ${readyWhenSoloDone - readyBefore} bulk documents`);
    assert.ok(soloMs < bulkRestMs, `solo (${soloMs} ms) finished well before bulk's backlog (${bulkRestMs} ms more)`);
  });
});
