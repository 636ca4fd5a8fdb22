import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { targetOf } from '../../lib/stores/generation-store';
import { countPoints as countLivePoints } from '../helpers/points';
import type { SearchHit } from '../../lib/stores/vector-index';
import { encodeQuery } from '../../lib/text/sparse';
import { passwordProtectedPdf, realPdfs } from '../helpers/fixtures';
import { apiClient, startStack, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

const TENANT = 'default';

describe('ingestion end to end (HTTP → Temporal dev server → worker → index)', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    // A small upload limit, so the size check is exercised with a real file.
    stack = await startStack({ MAX_UPLOAD_BYTES: String(3 * 1024 * 1024) });
    api = stack.api;
  });
  after(() => stack?.close());

  const documentStatus = async (documentId: string) => (await api.get(`/v1/documents/${documentId}`)).body;
  const settled = (documentId: string) =>
    waitFor(`document ${documentId} to settle`, () => documentStatus(documentId), (doc) => ['ready', 'failed'].includes(doc.stage) && doc.versions.every((v: any) => ['ready', 'failed', 'superseded'].includes(v.stage)));
  const countPoints = (collection: string, documentId: string, version?: number) =>
    countLivePoints(stack.platform, { tenantId: TENANT, collection, documentId, ...(version !== undefined && { version }) });
  const search = async (collection: string, question: string, documentId?: string): Promise<SearchHit[]> => {
    const [dense] = await stack.platform.embedder.embed([question]);
    const target = targetOf((await stack.platform.generations.live(TENANT, collection))!);
    return stack.platform.index.search(target.indexName, { dense, sparse: encodeQuery(question), filter: { tenantId: TENANT, collection, generation: target.generation, documentId }, limit: 5 });
  };

  it('ingests a real PDF: 202, then ready with page counts, page metadata and one point per chunk', async () => {
    const accepted = await api.upload('papers', { bytes: realPdfs.tracingJit(), filename: 'tracemonkey.pdf', type: 'application/pdf' }, { documentId: 'tracemonkey', metadata: JSON.stringify({ area: 'compilers', year: 2009 }) });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.body.documentId, 'tracemonkey');
    assert.equal(accepted.body.version, 1);
    assert.match(accepted.body.workflowId, /^ingest\/default\/tracemonkey\/v1$/);
    assert.equal(accepted.body.statusUrl, '/v1/documents/tracemonkey');

    const doc = await settled('tracemonkey');
    assert.equal(doc.stage, 'ready', JSON.stringify(doc.error));
    assert.equal(doc.activeVersion, 1);
    assert.equal(doc.pageCount, 14);
    assert.ok(doc.chunkCount > 40, `chunkCount ${doc.chunkCount}`);
    assert.equal(doc.versions[0].chunksEmbedded, doc.chunkCount);
    assert.equal(await countPoints('papers', 'tracemonkey'), doc.chunkCount, 'exactly one point per chunk');

    const hits = await search('papers', 'trace trees for type specialization of dynamic languages', 'tracemonkey');
    assert.ok(hits.length > 0);
    for (const hit of hits) {
      assert.ok(hit.payload.page_start! >= 1 && hit.payload.page_end! <= 14 && hit.payload.page_start! <= hit.payload.page_end!);
      assert.deepEqual(hit.payload.metadata, { area: 'compilers', year: 2009 });
      assert.equal(hit.payload.title, 'tracemonkey.pdf');
    }
    const pages = new Set((await search('papers', 'references bibliography', 'tracemonkey')).map((h) => h.payload.page_start));
    assert.ok([...pages].some((p) => p! > 1), 'chunks carry the pages they come from, not just page 1');
  });

  it('treats a re-upload of identical bytes as a no-op: same version, no new points', async () => {
    const before = await countPoints('papers', 'tracemonkey');
    const again = await api.upload('papers', { bytes: realPdfs.tracingJit(), filename: 'tracemonkey.pdf', type: 'application/pdf' }, { documentId: 'tracemonkey' });
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.version, 1);
    assert.equal(again.body.stage, 'ready');
    assert.equal(await countPoints('papers', 'tracemonkey'), before);
    assert.equal((await documentStatus('tracemonkey')).latestVersion, 1);
  });

  it('derives the same document id for the same bytes when none is given', async () => {
    const text = { text: 'Shared scratch notes about compilers and interpreters.', title: 'notes' };
    const first = await api.postJson('/v1/collections/papers/documents', text);
    const second = await api.postJson('/v1/collections/papers/documents', text);
    assert.equal(first.status, 202);
    assert.equal(second.body.documentId, first.body.documentId);
    assert.equal(second.body.duplicate, true);
    assert.equal((await settled(first.body.documentId)).stage, 'ready');
  });

  it('replaces version 1 with version 2 for changed bytes, with a searchable version at every moment', async () => {
    const accepted = await api.upload('papers', { bytes: realPdfs.nitricOxide(), filename: 'nitric-oxide.pdf', type: 'application/pdf' }, { documentId: 'tracemonkey' });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.version, 2);

    // Watch the swap: whatever the stage, the active version is fully searchable.
    const seenActive = new Set<number>();
    await waitFor(
      'version 2 to become active',
      async () => {
        const doc = await documentStatus('tracemonkey');
        assert.ok(doc.activeVersion === 1 || doc.activeVersion === 2, `active version ${doc.activeVersion}`);
        const active = doc.versions.find((v: any) => v.version === doc.activeVersion);
        const points = await countPoints('papers', 'tracemonkey', doc.activeVersion);
        // Status and count are two reads: when version 2 went active between them (and version 1's
        // points went after it), this sample saw no single moment; the next poll checks the new one.
        if ((await documentStatus('tracemonkey')).activeVersion === doc.activeVersion) {
          assert.ok(points >= active.chunkCount, 'active version fully indexed');
        }
        seenActive.add(doc.activeVersion);
        return doc;
      },
      (doc) => doc.activeVersion === 2 && doc.stage === 'ready',
      120_000,
      20,
    );
    assert.ok(seenActive.has(1), 'version 1 stayed active while version 2 was ingested');
    const doc = await documentStatus('tracemonkey');
    assert.equal(doc.pageCount, 5);
    assert.deepEqual(doc.versions.map((v: any) => [v.version, v.stage]), [[2, 'ready'], [1, 'superseded']]);
    await waitFor('old points to go', () => countPoints('papers', 'tracemonkey', 1), (n) => n === 0, 10_000);
    assert.equal(await countPoints('papers', 'tracemonkey'), doc.chunkCount);
    const [top] = await search('papers', 'nitric oxide levels of football players after speed exercise', 'tracemonkey');
    assert.equal(top?.payload.version, 2);
  });

  it('ingests Markdown and HTML with their heading paths as chunk metadata', async () => {
    const md = `# Employee handbook\n\n## Travel\n\n${'Book economy class for flights under six hours through the travel portal. '.repeat(20)}\n\n## Security\n\n${'Lost laptops are reported to the service desk at once. '.repeat(20)}`;
    const mdUpload = await api.postJson('/v1/collections/handbook/documents', { text: md, mediaType: 'text/markdown', documentId: 'handbook', title: 'Handbook' });
    const html = `<!doctype html><html><body><h1>Returns</h1><p>${'Items come back within thirty days for a refund. '.repeat(15)}</p><h2>Sale items</h2><p>${'Sale items get store credit only. '.repeat(15)}</p></body></html>`;
    const htmlUpload = await api.upload('handbook', { bytes: Buffer.from(html), filename: 'returns.html', type: 'text/html' }, { documentId: 'returns' });
    assert.deepEqual([mdUpload.status, htmlUpload.status], [202, 202]);
    const handbook = await settled('handbook');
    assert.equal(handbook.stage, 'ready');
    assert.equal(handbook.pageCount, null, 'formats without pages report no page count');
    assert.equal(handbook.title, 'Handbook');
    assert.equal((await settled('returns')).stage, 'ready');
    const [security] = await search('handbook', 'what to do about a lost laptop', 'handbook');
    assert.deepEqual(security?.payload.headings, ['Employee handbook', 'Security']);
    assert.equal(security?.payload.page_start, null);
    const [sale] = await search('handbook', 'store credit for sale items', 'returns');
    assert.deepEqual(sale?.payload.headings, ['Returns', 'Sale items']);
  });

  it('fails corrupt and password-protected PDFs with a code, once, without retries', async () => {
    const corrupt = await api.upload('papers', { bytes: realPdfs.corrupt(), filename: 'broken.pdf', type: 'application/pdf' }, { documentId: 'broken' });
    const locked = await api.upload('papers', { bytes: await passwordProtectedPdf(), filename: 'locked.pdf', type: 'application/pdf' }, { documentId: 'locked' });
    assert.deepEqual([corrupt.status, locked.status], [202, 202]);
    const broken = await settled('broken');
    assert.equal(broken.stage, 'failed');
    assert.equal(broken.error.code, 'pdf_corrupt');
    assert.equal(broken.activeVersion, null);
    assert.equal((await settled('locked')).error.code, 'pdf_encrypted');

    const history = await stack.env.client.workflow.getHandle(corrupt.body.workflowId).fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.deepEqual(attempts, [1, 1], 'parseDocument ran once, then markFailed once: no retry storm');
    assert.equal(await countPoints('papers', 'broken'), 0);
  });

  it('answers bad uploads with a clear 4xx and an error code', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
    const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
      ['oversized file', () => api.upload('papers', { bytes: realPdfs.solarCell(), filename: 'big.pdf', type: 'application/pdf' }), 413, 'document_too_large'],
      ['PNG declared as text', () => api.upload('papers', { bytes: png, filename: 'x.txt', type: 'text/plain' }), 415, 'unsupported_media_type'],
      ['text declared as PDF', () => api.upload('papers', { bytes: Buffer.from('hello'), filename: 'x.pdf', type: 'application/pdf' }), 415, 'content_type_mismatch'],
      ['PDF declared as Markdown', () => api.upload('papers', { bytes: realPdfs.nitricOxide(), filename: 'x.md', type: 'text/markdown' }), 415, 'content_type_mismatch'],
      ['empty file', () => api.upload('papers', { bytes: new Uint8Array(), filename: 'x.txt', type: 'text/plain' }), 422, 'empty_document'],
      ['whitespace-only text', () => api.postJson('/v1/collections/papers/documents', { text: '  \n\t ' }), 422, 'empty_document'],
      ['Latin-1 text', () => api.upload('papers', { bytes: Buffer.from('caf\xe9 cr\xe8me', 'latin1'), filename: 'x.txt', type: 'text/plain' }), 415, 'invalid_encoding'],
      ['malformed JSON', () => api.postRaw('/v1/collections/papers/documents', '{"text": "unterminated', 'application/json'), 400, 'malformed_json'],
      ['JSON without text', () => api.postJson('/v1/collections/papers/documents', { title: 'x' }), 400, 'invalid_request'],
      ['illegal collection name', () => api.postJson('/v1/collections/Bad..Name!/documents', { text: 'x' }), 400, 'invalid_request'],
      ['double underscore in collection', () => api.postJson('/v1/collections/a__b/documents', { text: 'x' }), 400, 'invalid_request'],
      ['document id with a path', () => api.upload('papers', { bytes: Buffer.from('x'), filename: 'x.txt', type: 'text/plain' }, { documentId: '../../etc/passwd' }), 400, 'invalid_request'],
      ['metadata not JSON', () => api.upload('papers', { bytes: Buffer.from('x'), filename: 'x.txt', type: 'text/plain' }, { metadata: '{oops' }), 400, 'malformed_json'],
      ['nested metadata', () => api.postJson('/v1/collections/papers/documents', { text: 'x', metadata: { a: { b: 1 } } }), 400, 'invalid_request'],
      ['unsupported body type', () => api.postRaw('/v1/collections/papers/documents', 'x', 'application/x-yaml'), 415, 'unsupported_media_type'],
      ['document in another collection', () => api.postJson('/v1/collections/handbook/documents', { text: 'moved', documentId: 'tracemonkey' }), 409, 'document_in_other_collection'],
      ['unknown document', () => api.get('/v1/documents/nope'), 404, 'document_not_found'],
      ['unknown collection', () => api.get('/v1/collections/nope/documents'), 404, 'collection_not_found'],
    ];
    for (const [name, request, status, code] of cases) {
      const response = await request();
      assert.equal(response.status, status, `${name}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error?.code, code, `${name}: ${JSON.stringify(response.body)}`);
      assert.ok(response.body.error.message && response.body.error.requestId, `${name} carries a message and a request id`);
    }
    // Nothing stored before was touched.
    const doc = await documentStatus('tracemonkey');
    assert.deepEqual([doc.stage, doc.activeVersion], ['ready', 2]);
    assert.equal(await countPoints('papers', 'tracemonkey'), doc.chunkCount);
  });

  it('lists documents page by page', async () => {
    const first = await api.get('/v1/collections/papers/documents?limit=2');
    assert.equal(first.status, 200);
    assert.equal(first.body.documents.length, 2);
    const rest = await api.get(`/v1/collections/papers/documents?limit=100&after=${first.body.nextCursor}`);
    const ids = [...first.body.documents, ...rest.body.documents].map((d: any) => d.documentId);
    assert.deepEqual(ids, [...ids].sort());
    assert.ok(ids.includes('tracemonkey') && ids.includes('broken') && ids.includes('locked'));
    assert.equal(rest.body.nextCursor, null);
  });

  it('deletes a document with every version and point', async () => {
    const removed = await api.delete('/v1/documents/tracemonkey');
    assert.deepEqual([removed.status, removed.body.throughVersion, removed.body.status], [202, 2, 'running']);
    assert.equal((await api.get('/v1/documents/tracemonkey')).status, 404);
    await waitFor('the deletion', async () => (await api.get('/v1/documents/tracemonkey/deletion')).body, (d) => d.status === 'completed');
    assert.equal(await countPoints('papers', 'tracemonkey'), 0);
    assert.equal((await api.delete('/v1/documents/tracemonkey')).status, 404);
    const list = await api.get('/v1/collections/papers/documents');
    assert.ok(!list.body.documents.some((d: any) => d.documentId === 'tracemonkey'));
    // Other documents keep their points.
    assert.equal((await documentStatus('handbook')).stage, 'ready');
    assert.ok((await countPoints('handbook', 'handbook')) > 0);
  });
});
