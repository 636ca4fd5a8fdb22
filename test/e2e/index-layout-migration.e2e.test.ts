import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ReindexService } from '../../api/services/reindex-service';
import { legacyIndexNameOf, spaceNameOf } from '../../lib/stores/index-name';
import { migrateIndexLayout } from '../../scripts/migrate-index-layout';
import { countPoints } from '../helpers/points';
import { ingestPolicies, startStack, type Stack } from '../helpers/stack';

/**
 * A deployment from before shared spaces: its collection is served from an index of its own
 * (`default__policies__g1`, points without a generation). It keeps answering as it is, then the
 * migration moves it into its model's shared space through a re-index and drops the old index.
 */
describe('moving a legacy collection into the shared space of its model', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    const { platform } = stack;
    // The collection's generation as a legacy deployment recorded it, before any document arrives.
    await platform.metadata.ensureCollection({ tenantId: 'default', name: 'policies', embeddingModel: platform.embedder.modelId, dimensions: platform.embedder.dimensions, chunkSizeTokens: 200, chunkOverlapTokens: 30, generation: 1 });
    await platform.db.query(`update collection_generations set index_name = null where tenant_id = 'default' and collection = 'policies'`);
    await ingestPolicies(stack.api);
  });
  after(() => stack?.close());

  const ask = async () => (await stack.api.postJson('/v1/query', { collection: 'policies', question: 'how often are passwords rotated', mode: 'retrieve', topK: 3 })).body;

  it('serves from the legacy index, migrates through a re-index, then drops it; answers the same throughout', async () => {
    const { platform } = stack;
    const legacyName = legacyIndexNameOf('default', 'policies', 1);
    const before = await ask();
    assert.equal(before.chunks[0]?.documentId, 'security');
    assert.ok((await platform.index.spaces()).includes(legacyName), 'written to its own index, as before');
    const held = await countPoints(platform, { collection: 'policies' });
    assert.ok(held > 0);

    const result = await migrateIndexLayout(platform, new ReindexService(platform, stack.env.client), { dropLegacy: true, log: () => undefined });
    assert.deepEqual(result, { moved: 1, failed: 0, dropped: 1 });
    const live = await platform.generations.live('default', 'policies');
    assert.deepEqual([live?.generation, live?.indexName], [2, spaceNameOf(platform.embedder.modelId, platform.embedder.dimensions)]);
    assert.equal(await countPoints(platform, { collection: 'policies' }), held, 'the same chunks, now in the shared space');
    assert.ok(!(await platform.index.spaces()).includes(legacyName), 'the legacy index is gone');
    const afterMove = await ask();
    assert.deepEqual(afterMove.chunks.map((c: any) => c.documentId), before.chunks.map((c: any) => c.documentId));
    assert.deepEqual(await migrateIndexLayout(platform, new ReindexService(platform, stack.env.client), { dropLegacy: true, log: () => undefined }), { moved: 0, failed: 0, dropped: 0 }, 'a second run has nothing to do');
  });
});
