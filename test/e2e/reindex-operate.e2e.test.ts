import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countPoints } from '../helpers/points';
import { fastifyReferenceDocs } from '../helpers/fixtures';
import { apiClient, ingestPolicies, startStack, type Stack } from '../helpers/stack';
import { listWorkflows, waitFor } from '../helpers/temporal';

/**
 * Operating a re-index through the API, in one process over the real Temporal dev server: bad
 * requests, pause and resume, cancel (the half-built generation goes), a gate that fails
 * (the live generation keeps serving), and the search attributes runs carry.
 */
describe('re-index: operate, cancel, gate', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  const docs = fastifyReferenceDocs().slice(0, 6);
  const run = (id: string) => api.get(`/v1/collections/ref/reindex/${id}`);
  const untilStage = (id: string, stages: string[], timeoutMs = 240_000) =>
    waitFor(`run ${id} to reach ${stages.join('|')}`, async () => (await run(id)).body, (r) => stages.includes(r.stage), timeoutMs, 100);

  before(async () => {
    stack = await startStack({ REINDEX_BATCH_SIZE: '1', REINDEX_BATCHES_PER_RUN: '2', CHUNK_SIZE_TOKENS: '150', CHUNK_OVERLAP_TOKENS: '20' });
    api = stack.api;
    await ingestPolicies(api);
    for (const doc of docs) {
      const response = await api.postJson('/v1/collections/ref/documents', { text: doc.text, mediaType: 'text/markdown', documentId: doc.documentId });
      assert.equal(response.status, 202, JSON.stringify(response.body));
    }
    for (const doc of docs) await waitFor(`${doc.documentId} ready`, async () => (await api.get(`/v1/documents/${doc.documentId}`)).body, (d) => d.stage === 'ready');
  });
  after(() => stack?.close());

  it('answers bad re-index requests with 4xx codes', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/collections/nope/reindex', {}, 404, 'collection_not_found'],
      ['POST', '/v1/collections/ref/reindex', { embeddingModel: 'no-such-model' }, 422, 'unknown_embedding_model'],
      ['POST', '/v1/collections/ref/reindex', { chunkSizeTokens: 100, chunkOverlapTokens: 100 }, 422, 'invalid_chunking'],
      ['POST', '/v1/collections/ref/reindex', { chunkSizeTokens: 1000 }, 422, 'invalid_chunking'],
      ['POST', '/v1/collections/ref/reindex', { chunking: 5 }, 400, 'invalid_request'],
      ['POST', '/v1/collections/ref/rollback', undefined, 409, 'no_previous_generation'],
      ['GET', '/v1/collections/ref/reindex/rx_000000000000', undefined, 404, 'reindex_not_found'],
      ['GET', '/v1/collections/ref/reindex/..%2Fetc', undefined, 400, 'invalid_request'],
      ['PUT', '/v1/collections/ref/eval-set', { questions: [{ question: '', relevantDocumentIds: ['a'] }] }, 400, 'invalid_request'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const response = await api.send(method, path, body);
      const json = response.body as { error?: { code: string } };
      assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(json)}`);
      assert.equal(json.error?.code, code, `${method} ${path}`);
    }
  });

  it('pauses between batches, resumes, and cancels while paused: the half-built generation goes, the live one serves', async () => {
    const started = await api.postJson('/v1/collections/ref/reindex', { chunkSizeTokens: 60, chunkOverlapTokens: 10 });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = started.body.id as string;
    assert.equal(started.body.toGeneration, 2);
    const second = await api.postJson('/v1/collections/ref/reindex', {});
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'reindex_in_progress');

    await waitFor('a first document rebuilt', async () => (await run(id)).body, (r) => r.documentsDone >= 1, 120_000, 50);
    const pausing = await api.postJson(`/v1/collections/ref/reindex/${id}/pause`, {});
    assert.deepEqual([pausing.status, pausing.body.paused], [202, true], 'the answer shows the state after the change');
    const again = await api.postJson(`/v1/collections/ref/reindex/${id}/pause`, {});
    assert.deepEqual([again.status, again.body.error?.code], [409, 'reindex_already_paused'], "the run's validator refuses a second pause");
    const paused = await untilStage(id, ['paused']);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stillPaused = (await run(id)).body;
    assert.equal(stillPaused.stage, 'paused');
    assert.equal(stillPaused.documentsDone, paused.documentsDone, 'no progress while paused');
    assert.ok(stillPaused.documentsDone < stillPaused.documentsTotal, `paused part-way: ${stillPaused.documentsDone}/${stillPaused.documentsTotal}`);

    const resuming = await api.postJson(`/v1/collections/ref/reindex/${id}/resume`, {});
    assert.deepEqual([resuming.status, resuming.body.paused], [202, false]);
    const notPaused = await api.postJson(`/v1/collections/ref/reindex/${id}/resume`, {});
    assert.deepEqual([notPaused.status, notPaused.body.error?.code], [409, 'reindex_not_paused']);
    await waitFor('progress after resume', async () => (await run(id)).body, (r) => r.documentsDone > paused.documentsDone, 120_000, 50);

    // Cancelled while held: a cancel sent mid-build can arrive after the last batch on a slow
    // machine (CI saw the run finish first), and the run holds before its swap at the latest.
    assert.equal((await api.postJson(`/v1/collections/ref/reindex/${id}/pause`, {})).status, 202);
    await untilStage(id, ['paused']);
    const cancelled = await api.delete(`/v1/collections/ref/reindex/${id}`);
    assert.equal(cancelled.status, 202);
    const final = await untilStage(id, ['cancelled']);
    assert.ok(final.finishedAt);
    const collection = (await api.get('/v1/collections/ref')).body;
    assert.equal(collection.liveGeneration, 1);
    assert.deepEqual(collection.generations.map((g: any) => [g.generation, g.state]), [[1, 'live'], [2, 'cancelled']]);
    await waitFor("the staging generation's points removed", () => countPoints(stack.platform, { collection: 'ref', generation: 2 }), (n) => n === 0, 30_000);
    assert.equal((await stack.platform.generations.live('default', 'ref'))?.generation, 1);
    const query = await api.postJson('/v1/query', { collection: 'ref', question: 'How do I register a plugin?', mode: 'retrieve', topK: 3 });
    assert.equal(query.status, 200);
    assert.ok(query.body.chunks.length > 0);
    assert.equal((await api.delete(`/v1/collections/ref/reindex/${id}`)).status, 409, 'a finished run cannot be cancelled');
  });

  it('fails the gate when a stored document cannot be rebuilt, and the live generation keeps serving', async () => {
    const doc = await api.get(`/v1/documents/${docs[2]!.documentId}`);
    const sha256 = doc.body.versions[0].sha256 as string;
    await stack.platform.blobs.remove(stack.platform.blobs.rawKey(sha256));

    const started = await api.postJson('/v1/collections/ref/reindex', { chunkSizeTokens: 100, chunkOverlapTokens: 10 });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const final = await untilStage(started.body.id, ['gate_failed', 'done', 'failed']);
    assert.equal(final.stage, 'gate_failed');
    assert.equal(final.report.passed, false);
    assert.deepEqual(final.report.documents.missing, [docs[2]!.documentId]);
    assert.match(final.report.reasons[0], /1 of 6 documents are missing/);
    assert.equal(final.errors.total, 1);
    assert.equal(final.errors.first[0].code, 'raw_document_missing');

    const collection = (await api.get('/v1/collections/ref')).body;
    assert.equal(collection.liveGeneration, 1);
    assert.equal(collection.generations.find((g: any) => g.generation === 3).state, 'failed');
    assert.equal(collection.chunking.chunkSizeTokens, 150, 'the live settings are unchanged');
    const query = await api.postJson('/v1/query', { collection: 'ref', question: 'How do I register a plugin?', mode: 'retrieve', topK: 3 });
    assert.equal(query.status, 200);
    assert.ok(query.body.chunks.length > 0);

    const workflow = await stack.env.client.workflow.getHandle(final.workflowId).describe();
    assert.equal(workflow.status.name, 'FAILED', 'the Temporal UI shows the run as failed');
    // The refused swap is deployment evidence; the cancelled run before it moved nothing.
    const evidence = await stack.operator.get('/v1/deployments?kind=generation_swap&target=default/ref');
    assert.deepEqual(evidence.body.deployments.map((d: any) => [d.decision, d.fromVersion, d.toVersion, d.workflowId]), [['refused', '1', '3', final.workflowId]], JSON.stringify(evidence.body));
    const detail = await stack.operator.get(`/v1/deployments/${evidence.body.deployments[0].id}`);
    assert.deepEqual(detail.body.report.reasons, final.report.reasons);
    assert.ok(detail.body.approvedBy, 'the key that started the run');
  });

  it('tags ingestion and re-index runs with tenant, collection, generation and stage', async () => {
    const list = (query: string) => listWorkflows(stack.env.client, query);
    const reindexRuns = await waitFor(
      're-index runs to be visible',
      () => list(`RagCollection = "ref" AND WorkflowType = "reindexCollectionWorkflow" AND ExecutionStatus != "ContinuedAsNew"`),
      (runs) => runs.length === 2,
      30_000,
      500,
    );
    assert.deepEqual(reindexRuns.map((r) => r.searchAttributes.RagStage?.[0]).sort(), ['cancelled', 'gate_failed']);
    assert.deepEqual(reindexRuns.map((r) => r.searchAttributes.RagGeneration?.[0]).sort(), [2, 3]);
    const ingests = await waitFor('ingestion runs to be visible', () => list(`RagCollection = "ref" AND RagTenant = "default" AND WorkflowType = "ingestDocumentWorkflow"`), (runs) => runs.length === docs.length, 30_000, 500);
    assert.ok(ingests.every((r) => r.searchAttributes.RagStage?.[0] === 'ready' && r.searchAttributes.RagGeneration?.[0] === 1));
  });
});
