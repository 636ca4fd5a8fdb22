import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countPoints } from '../helpers/points';
import { startStack, waitReady, type ApiClient, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

const words = (seed: string, n: number) => Array.from({ length: n }, (_, i) => `${seed}${i % 23} ${['meadow', 'quarry', 'beacon', 'thicket'][i % 4]}`).join(' ');
const markdown = (unique: string) => `# ${unique}\n\n## Part one\n\nThe ${unique} notes say ${words(unique, 50)}.\n\n## Part two\n\nMore of ${unique}: ${words(unique, 40)}.`;

describe('collections as first-class records', () => {
  let stack: Stack;
  let api: ApiClient;
  before(async () => {
    stack = await startStack();
    api = stack.api;
  });
  after(() => stack?.close());

  it('creates a collection with its settings, refuses a second one and settings a model cannot read', async () => {
    const created = await api.postJson('/v1/collections', { name: 'handbook', chunkSizeTokens: 120, chunkOverlapTokens: 20, filterableKeys: { team: 'keyword', year: 'integer' }, relevanceFloor: 0.5 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      [created.body.liveGeneration, created.body.chunking, created.body.filterableKeys, created.body.relevanceFloor, created.body.documents, created.body.chunks],
      [1, { chunkSizeTokens: 120, chunkOverlapTokens: 20 }, { team: 'keyword', year: 'integer' }, 0.5, 0, 0],
    );
    const again = await api.postJson('/v1/collections', { name: 'handbook' });
    assert.deepEqual([again.status, again.body.error.code], [409, 'collection_exists']);
    const tooLong = await api.postJson('/v1/collections', { name: 'big', chunkSizeTokens: 4000 });
    assert.deepEqual([tooLong.status, tooLong.body.error.code], [422, 'invalid_chunking'], JSON.stringify(tooLong.body));
    const unknownModel = await api.postJson('/v1/collections', { name: 'other', embeddingModel: 'no-such-model' });
    assert.deepEqual([unknownModel.status, unknownModel.body.error.code], [422, 'embedding_model_unavailable']);
    const badType = await api.postJson('/v1/collections', { name: 'typed', filterableKeys: { team: 'date' } });
    assert.equal(badType.status, 400);
    assert.equal((await api.get('/v1/collections/big')).status, 404, 'a refused creation leaves nothing behind');
  });

  it('lists collections with document and chunk counts, and uploads into a new name still create one', async () => {
    const upload = await api.postJson('/v1/collections/handbook/documents', { text: markdown('heron'), mediaType: 'text/markdown', documentId: 'heron', metadata: { team: 'birds', year: 2024 } });
    assert.equal(upload.status, 202);
    const implicit = await api.postJson('/v1/collections/implicit/documents', { text: markdown('otter'), mediaType: 'text/markdown', documentId: 'otter' });
    assert.equal(implicit.status, 202);
    await waitReady(api, 'heron');
    const ready = await waitReady(api, 'otter');
    const listed = await api.get('/v1/collections');
    assert.equal(listed.status, 200);
    type Listed = { name: string; documents: number; chunks: number; metadataKeys: string[] };
    const byName = Object.fromEntries((listed.body.collections as Listed[]).map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(byName), ['handbook', 'implicit']);
    const handbook = byName.handbook as Listed;
    assert.equal(handbook.documents, 1);
    assert.ok(handbook.chunks > 0);
    assert.deepEqual(handbook.metadataKeys, ['team', 'year']);
    const implicitView = byName.implicit as Listed;
    assert.equal(implicitView.chunks, ready.versions[0].chunkCount, 'the live generation holds the version\'s chunks');
    assert.equal(implicitView.documents, 1);
  });

  it('refuses a filter on a key the collection does not know, naming the ones it knows', async () => {
    const known = await api.postJson('/v1/query', { collection: 'handbook', question: 'heron notes', mode: 'retrieve', filters: { team: 'birds' } });
    assert.equal(known.status, 200);
    assert.ok(known.body.chunks.length > 0);
    const typo = await api.postJson('/v1/query', { collection: 'handbook', question: 'heron notes', mode: 'retrieve', filters: { teem: 'birds' } });
    assert.deepEqual([typo.status, typo.body.error.code, typo.body.error.details], [400, 'unknown_filter_key', { unknown: ['teem'], known: ['team', 'year'] }]);
    // Without declared keys, the keys documents have carried are what filters may name.
    const undeclared = await api.postJson('/v1/query', { collection: 'implicit', question: 'otter', mode: 'retrieve', filters: { team: 'x' } });
    assert.deepEqual([undeclared.status, undeclared.body.error.details?.known], [400, []]);
  });

  it('answers an unknown collection with a plain 404, also when the answer would stream', async () => {
    const streamed = await api.postJson('/v1/query', { collection: 'nowhere', question: 'anything?', stream: true });
    assert.deepEqual([streamed.status, streamed.body.error?.code], [404, 'collection_not_found']);
    assert.match(String(streamed.headers.get('content-type')), /application\/json/);
  });

  it('changes settings that need no re-index, and sends the others to the re-index', async () => {
    const patched = await api.send('PATCH', '/v1/collections/handbook', { relevanceFloor: 0.99, filterableKeys: { region: 'keyword' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual([patched.body.relevanceFloor, patched.body.filterableKeys], [0.99, { team: 'keyword', year: 'integer', region: 'keyword' }]);
    // The collection's floor reaches the answer: nothing clears 0.99.
    const strict = await api.postJson('/v1/query', { collection: 'handbook', question: 'What do the heron notes say about the meadow?' });
    assert.equal(strict.status, 200);
    assert.deepEqual([strict.body.found, strict.body.notFound?.floor], [false, 0.99], JSON.stringify(strict.body.notFound));
    const reset = await api.send('PATCH', '/v1/collections/handbook', { relevanceFloor: null });
    assert.equal(reset.body.relevanceFloor, null);
    const chunking = await api.send('PATCH', '/v1/collections/handbook', { chunkSizeTokens: 80 });
    assert.equal(chunking.status, 400, 'chunking changes through POST …/reindex');
    assert.equal((await api.send('PATCH', '/v1/collections/nowhere', { relevanceFloor: 0.4 })).status, 404);
  });

  it('deletes a collection durably: gone at once, points and documents purged, and the name can be created again', async () => {
    await api.postJson('/v1/collections/handbook/documents', { text: markdown('egret'), mediaType: 'text/markdown', documentId: 'egret', metadata: { team: 'birds' } });
    const deletion = await api.delete('/v1/collections/handbook');
    assert.equal(deletion.status, 202, JSON.stringify(deletion.body));
    assert.match(deletion.body.workflowId, /^delete\/default\/collection\/handbook\/[0-9a-f]{12}$/);
    const twice = await api.delete('/v1/collections/handbook');
    assert.deepEqual([twice.status, twice.body.workflowId], [202, deletion.body.workflowId], 'a second DELETE answers with the same run');
    assert.equal((await api.get('/v1/collections/handbook')).status, 404, 'invisible at once');
    assert.equal((await api.get('/v1/documents/heron')).status, 404, 'its documents too');
    assert.equal((await api.postJson('/v1/query', { collection: 'handbook', question: 'heron', mode: 'retrieve' })).status, 404);
    const during = await api.postJson('/v1/collections/handbook/documents', { text: 'new text', documentId: 'late' });
    assert.ok([202, 409].includes(during.status), 'refused while the deletion runs, or accepted once it has finished');
    if (during.status === 409) assert.equal(during.body.error.code, 'collection_being_deleted');

    await waitFor('deletion completed', async () => (await api.get('/v1/collections/handbook/deletion')).body, (d) => d.status === 'completed', 180_000, 200);
    const generations = await stack.platform.generations.list('default', 'handbook');
    assert.ok(generations.every((g) => g.state === 'dropped'));
    for (const g of generations) assert.equal(await countPoints(stack.platform, { collection: 'handbook', generation: g.generation }), 0, `no points left in g${g.generation}`);
    assert.equal((await stack.platform.metadata.getDocument('default', 'egret')), null);
    assert.equal((await stack.platform.db.query("select 1 from document_versions where tenant_id = 'default' and document_id in ('heron', 'egret')")).length, 0, 'versions purged');
    const lateAccepted = during.status === 202;
    assert.deepEqual((await api.get('/v1/collections')).body.collections.map((c: { name: string }) => c.name), lateAccepted ? ['handbook', 'implicit'] : ['implicit'], 'other collections are untouched');
    assert.ok((await api.postJson('/v1/query', { collection: 'implicit', question: 'otter notes', mode: 'retrieve' })).body.chunks.length > 0);

    // The name is free again: a new collection, generations after the old ones, and a document id continues its versions.
    const reborn = await api.postJson('/v1/collections/handbook/documents', { text: markdown('heron'), mediaType: 'text/markdown', documentId: 'heron' });
    assert.deepEqual([reborn.status, reborn.body.version], [202, 2], JSON.stringify(reborn.body));
    await waitReady(api, 'heron');
    const view = (await api.get('/v1/collections/handbook')).body;
    assert.ok(view.liveGeneration > Math.max(...generations.map((g) => g.generation)), `generation ${view.liveGeneration}`);
    assert.deepEqual([view.documents, view.filterableKeys, view.relevanceFloor], [lateAccepted ? 2 : 1, null, null], 'settings start over');
  });
});
