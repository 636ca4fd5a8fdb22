import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { targetOf } from '../../lib/stores/generation-store';
import { encodeDocument } from '../../lib/text/sparse';
import { POLICIES, realPdfs } from '../helpers/fixtures';
import { apiClient, startStack, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

describe('retrieval end to end (POST /v1/query, mode retrieve)', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  const ask = (question: string, extra: Record<string, unknown> = {}) => api.postJson('/v1/query', { collection: 'policies', question, mode: 'retrieve', ...extra });
  const ready = (documentId: string) =>
    waitFor(`${documentId} ready`, async () => (await api.get(`/v1/documents/${documentId}`)).body, (doc) => doc.stage === 'ready' && doc.versions.every((v: any) => v.stage !== 'embedding' && v.stage !== 'indexing'));

  before(async () => {
    stack = await startStack();
    api = stack.api;
    for (const [id, policy] of Object.entries(POLICIES)) {
      const response = await api.postJson('/v1/collections/policies/documents', { text: policy.text, mediaType: 'text/markdown', documentId: id, metadata: { team: policy.team } });
      assert.equal(response.status, 202);
    }
    const pdf = await api.upload('policies', { bytes: realPdfs.tracingJit(), filename: 'tracemonkey.pdf', type: 'application/pdf' }, { documentId: 'tracemonkey', metadata: JSON.stringify({ team: 'research' }) });
    assert.equal(pdf.status, 202);
    for (const id of [...Object.keys(POLICIES), 'tracemonkey']) await ready(id);
  });
  after(() => stack?.close());

  it('finds the right document for a paraphrased question, with its metadata and a trace', async () => {
    const response = await ask('How many days do I have to send back something I bought?', { topK: 3 });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const [top] = response.body.chunks;
    assert.equal(top.documentId, 'refunds');
    assert.match(top.text, /thirty days/);
    assert.deepEqual(top.headings, ['Refund policy']);
    assert.deepEqual(top.metadata, { team: 'support' });
    assert.ok(response.body.chunks.length <= 3);
    assert.ok(response.body.chunks.every((c: any, i: number, all: any[]) => i === 0 || c.score <= all[i - 1].score), 'ranked best first');
    const { embed, search, orchestration, total } = response.body.latencyMs;
    assert.ok(embed > 0 && search >= 0 && orchestration >= 0 && total >= embed + search);
    const run = await stack.queries.workflow.getHandle(response.body.workflowId).describe();
    assert.equal(run.status.name, 'COMPLETED', 'the workflow id names the retrieval workflow run');
    assert.equal(run.runId, response.body.runId);
    await assert.rejects(stack.env.client.workflow.getHandle(response.body.workflowId).describe(), /not found/i, 'query runs stay out of the namespace of ingestion and re-index runs');
    // Tracing is off here: no spans, yet a trace id is made, returned and on the traceparent header.
    assert.match(response.body.traceId, /^[0-9a-f]{32}$/);
    assert.equal(/^00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]$/.exec(response.headers.get('traceparent') ?? '')?.[1], response.body.traceId);

    const laptop = await ask('my work computer was stolen, who do I tell?');
    assert.equal(laptop.body.chunks[0].documentId, 'security');
  });

  it('returns PDF chunks with their pages', async () => {
    const response = await ask('trace trees recorded for hot loops in a JavaScript just-in-time compiler');
    const top = response.body.chunks[0];
    assert.equal(top.documentId, 'tracemonkey');
    assert.ok(top.pageStart >= 1 && top.pageEnd <= 14 && top.pageStart <= top.pageEnd);
    assert.equal(top.title, 'tracemonkey.pdf');
  });

  it('restricts results with metadata filters, single values and any-of lists', async () => {
    const hrOnly = await ask('what do I do about a lost laptop', { filters: { team: 'hr' } });
    assert.equal(hrOnly.status, 200);
    assert.ok(hrOnly.body.chunks.length > 0);
    assert.deepEqual(new Set(hrOnly.body.chunks.map((c: any) => c.documentId)), new Set(['travel']));
    const either = await ask('policy', { filters: { team: ['hr', 'support'] }, topK: 20 });
    assert.deepEqual(new Set(either.body.chunks.map((c: any) => c.documentId)), new Set(['travel', 'refunds']));
    const none = await ask('policy', { filters: { team: 'legal' } });
    assert.deepEqual(none.body.chunks, []);
  });

  it('answers from the newest ready version only, and never from a deleted document', async () => {
    const v2 = await api.postJson('/v1/collections/policies/documents', {
      text: POLICIES.refunds.text.replace('thirty days', 'sixty days'),
      mediaType: 'text/markdown',
      documentId: 'refunds',
      metadata: { team: 'support' },
    });
    assert.equal(v2.body.version, 2);
    await waitFor('refunds v2 active', async () => (await api.get('/v1/documents/refunds')).body, (doc) => doc.activeVersion === 2);
    const response = await ask('how long is the return window for a refund', { topK: 10 });
    const refunds = response.body.chunks.filter((c: any) => c.documentId === 'refunds');
    assert.ok(refunds.length > 0);
    assert.ok(refunds.every((c: any) => c.version === 2 && !/thirty days/.test(c.text)));

    // A version still being indexed has points in the index but is not active: it must not answer.
    const target = targetOf((await stack.platform.generations.live('default', 'policies'))!);
    const text = 'Zeppelin allowance: staff may expense one airship voyage per quarter.';
    const [dense] = await stack.platform.embedder.embed([text]);
    await stack.platform.index.upsert(target.indexName, [
      { id: '00000000-0000-4000-8000-000000000003', dense: dense!, sparse: encodeDocument(text), payload: { tenant_id: 'default', collection: 'policies', generation: target.generation, document_id: 'travel', version: 3, chunk_index: 0, text, title: null, page_start: null, page_end: null, headings: [], metadata: { team: 'hr' } } },
    ]);
    const midIndexing = await ask('zeppelin airship voyage allowance', { topK: 20 });
    assert.ok(midIndexing.body.chunks.length > 0);
    assert.ok(!midIndexing.body.chunks.some((c: any) => c.version === 3), 'an inactive version never answers');

    assert.equal((await api.delete('/v1/documents/security')).status, 202, 'queries stop seeing it at once; the run removes it');
    const afterDelete = await ask('my laptop was stolen', { topK: 20 });
    assert.ok(!afterDelete.body.chunks.some((c: any) => c.documentId === 'security'));
  });

  it('rejects bad queries with a 4xx and a code', async () => {
    const cases: [string, Record<string, unknown>, number, string][] = [
      ['empty question', { collection: 'policies', question: '   ', mode: 'retrieve' }, 400, 'invalid_request'],
      ['unknown collection', { collection: 'nope', question: 'refunds?', mode: 'retrieve' }, 404, 'collection_not_found'],
      ['illegal collection', { collection: 'No Such!', question: 'refunds?', mode: 'retrieve' }, 400, 'invalid_request'],
      ['topK out of range', { collection: 'policies', question: 'refunds?', mode: 'retrieve', topK: 0 }, 400, 'invalid_request'],
      ['nested filter', { collection: 'policies', question: 'refunds?', mode: 'retrieve', filters: { team: { $ne: 'hr' } } }, 400, 'invalid_request'],
      ['unknown mode', { collection: 'policies', question: 'refunds?', mode: 'summarise' }, 400, 'invalid_request'],
      ['streamed retrieval', { collection: 'policies', question: 'refunds?', mode: 'retrieve', stream: true }, 400, 'invalid_request'],
    ];
    for (const [name, body, status, code] of cases) {
      const response = await api.postJson('/v1/query', body);
      assert.equal(response.status, status, `${name}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, code, name);
    }
  });
});
