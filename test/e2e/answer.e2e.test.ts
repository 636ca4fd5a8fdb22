import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { normalise } from '../../lib/answer/model-answer';
import { realPdfs } from '../helpers/fixtures';
import { apiClient, ingestPolicies, startStack, streamQuery, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

/**
 * Answer mode through HTTP on the zero-setup configuration: no chat model configured, so the
 * extractive answerer answers, behind the local reranker and its relevance floor.
 */
describe('answers end to end (POST /v1/query, mode answer)', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  const ask = (question: string, extra: Record<string, unknown> = {}) => api.postJson('/v1/query', { collection: 'policies', question, ...extra });

  /** Every citation names a chunk retrieval returns for the question, and quotes that chunk's text. */
  async function assertGrounded(question: string, body: any, extra: Record<string, unknown> = {}) {
    const retrieved = await ask(question, { mode: 'retrieve', topK: 50, ...extra });
    assert.ok(body.citations.length > 0, 'an answer cites');
    for (const citation of body.citations) {
      const chunk = retrieved.body.chunks.find((c: any) => c.chunkId === citation.chunkId);
      assert.ok(chunk, `cited chunk ${citation.chunkId} is a retrieved chunk`);
      assert.equal(chunk.documentId, citation.documentId);
      assert.equal(chunk.version, citation.version);
      assert.ok(normalise(chunk.text).includes(normalise(citation.quote)), `quote "${citation.quote}" occurs in the chunk`);
    }
  }

  before(async () => {
    stack = await startStack();
    api = stack.api;
    await ingestPolicies(api);
    const pdf = await api.upload('policies', { bytes: realPdfs.tracingJit(), filename: 'tracemonkey.pdf', type: 'application/pdf' }, { documentId: 'tracemonkey', metadata: JSON.stringify({ team: 'research' }) });
    assert.equal(pdf.status, 202);
    await waitFor('tracemonkey ready', async () => (await api.get('/v1/documents/tracemonkey')).body, (doc) => doc.stage === 'ready');
  });
  after(() => stack?.close());

  it('answers with citations that quote the retrieved chunks, with model, prompt version, usage, latencies and a trace', async () => {
    const question = 'How many days do I have to send back something I bought?';
    const response = await ask(question);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const body = response.body;
    assert.equal(body.mode, 'answer');
    assert.equal(body.found, true);
    assert.match(body.answer, /thirty days/);
    assert.equal(body.citations[0].documentId, 'refunds');
    await assertGrounded(question, body);
    assert.deepEqual(body.model, { provider: 'extractive', model: 'extractive' });
    assert.match(body.promptVersion, /^grounded-answer@v1#[0-9a-f]{12}$/);
    assert.deepEqual(body.usage, { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: [] });
    const { embed, search, rerank, generate, orchestration, total } = body.latencyMs;
    assert.ok(embed > 0 && search >= 0 && rerank > 0 && generate >= 0 && orchestration >= 0);
    assert.ok(total >= embed + search + rerank);
    const run = await stack.queries.workflow.getHandle(body.workflowId).describe();
    assert.equal(run.type, 'answerQueryWorkflow');
    assert.equal(body.workflowUrl, `${stack.platform.config.TEMPORAL_UI_URL}/namespaces/rag-queries/workflows/${encodeURIComponent(body.workflowId)}/${body.runId}/history`, 'the answer links to its run in the Temporal UI');
    assert.equal(run.status.name, 'COMPLETED');
  });

  it('answers from a real PDF, citing its page', async () => {
    const question = 'Which loops does the tracing JIT compiler record as traces?';
    const response = await ask(question);
    assert.equal(response.body.found, true, JSON.stringify(response.body));
    const citation = response.body.citations[0];
    assert.equal(citation.documentId, 'tracemonkey');
    assert.ok(citation.page >= 1 && citation.page <= 14);
    await assertGrounded(question, response.body);
  });

  it('says "not found in the documents", and why, for questions the documents cannot answer, without calling a model', async () => {
    // Near misses as well as far ones: travel and security are what these documents are about.
    for (const question of ['What is the capital of Mongolia?', 'Who won the football world cup in 2010?', 'How do I claim travel expenses in SAP Concur?', 'Which antivirus product is installed on company laptops?']) {
      const response = await ask(question);
      assert.equal(response.status, 200);
      assert.equal(response.body.found, false, `${question}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.answer, 'Not found in the documents.');
      assert.deepEqual(response.body.citations, []);
      assert.equal(response.body.model.provider, 'none');
      const { reason, bestScore, floor, closest } = response.body.notFound;
      assert.equal(reason, 'below_relevance_floor');
      assert.equal(floor, stack.platform.config.RELEVANCE_FLOOR);
      assert.ok(bestScore < floor, `${question}: best ${bestScore} is under the floor ${floor}`);
      assert.ok(closest.length >= 1 && closest.every((c: any, i: number) => typeof c.documentId === 'string' && (i === 0 || c.score <= closest[i - 1].score)), JSON.stringify(closest));
      assert.equal(closest[0].score, bestScore);
    }
  });

  it('answers only from documents the filters allow', async () => {
    const question = 'what do I do about a lost laptop';
    const unfiltered = await ask(question);
    assert.equal(unfiltered.body.citations[0].documentId, 'security');
    const hrOnly = await ask(question, { filters: { team: ['hr', 'support'] } });
    assert.ok(hrOnly.body.citations.every((c: any) => c.documentId === 'travel' || c.documentId === 'refunds'), JSON.stringify(hrOnly.body));
    if (hrOnly.body.found) await assertGrounded(question, hrOnly.body, { filters: { team: ['hr', 'support'] } });
  });

  it('streams the answer as server-sent events that end with the same citations', async () => {
    const question = 'how often must passwords change?';
    const streamed = await streamQuery(stack, { collection: 'policies', question });
    assert.equal(streamed.status, 200);
    assert.match(streamed.contentType ?? '', /^text\/event-stream/);
    const names = streamed.events.map((e) => e.event);
    assert.equal(names.at(-1), 'answer', names.join(','));
    const final = streamed.events.at(-1)?.data;
    assert.ok(final.found);
    // Nothing was shown before the extractive answer, so nothing is withdrawn; it streams sentence by sentence.
    assert.ok(!names.includes('reset'), names.join(','));
    const deltas = streamed.events.filter((e) => e.event === 'delta').map((e) => e.data.text);
    assert.ok(deltas.length >= final.citations.length, `at least one delta per cited passage: ${JSON.stringify(deltas)}`);
    assert.equal(deltas.join(''), final.answer);
    const plain = await ask(question);
    assert.deepEqual(final.citations, plain.body.citations);
    await assertGrounded(question, final);
  });

  it('rejects bad queries with codes', async () => {
    assert.equal((await ask('x', { mode: 'retrieve', stream: true })).body.error.code, 'invalid_request');
    assert.equal((await ask('x', { mode: 'summarise' })).status, 400);
    const missing = await api.postJson('/v1/query', { collection: 'nope', question: 'x' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'collection_not_found');
    // Admission errors are plain answers before any stream begins (this used to be a 200 and an SSE error event).
    const streamedMissing = await api.postJson('/v1/query', { collection: 'nope', question: 'x', stream: true });
    assert.deepEqual([streamedMissing.status, streamedMissing.body.error?.code], [404, 'collection_not_found']);
  });
});
