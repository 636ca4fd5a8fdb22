import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { QdrantClient } from '@qdrant/js-client-rest';
import { QdrantVectorIndex } from '../../lib/stores/qdrant-index';
import { vectorIndexContract } from './vector-index.contract';

const url = process.env.QDRANT_URL;
const skip = url ? undefined : 'QDRANT_URL is not set: this run needs a Qdrant server (1.19 or newer; docker compose up qdrant, then QDRANT_URL=http://127.0.0.1:6333)';
const open = () => new QdrantVectorIndex({ url: url as string, apiKey: process.env.QDRANT_API_KEY });

vectorIndexContract('qdrant', async () => open(), { skip });

describe('Qdrant setup', { skip }, () => {
  const raw = () => new QdrantClient({ url: url as string, apiKey: process.env.QDRANT_API_KEY, checkCompatibility: false });

  it('completes a space whose creation was interrupted: missing payload indexes are created on the next start', async () => {
    const space = `setup_${randomUUID().slice(0, 8)}`;
    const client = raw();
    // What a process killed right after creating the collection leaves behind.
    await client.createCollection(space, { vectors: { dense: { size: 4, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'idf' } } });
    try {
      await open().ensureSpace(space, { dimensions: 4 });
      const schema = (await client.getCollection(space)).payload_schema ?? {};
      for (const field of ['tenant_id', 'collection', 'generation', 'document_id', 'version', 'chunk_index']) assert.ok(field in schema, `${field} is indexed`);
      await open().ensureFilterable(space, { 'region.code': 'keyword', score: 'float' });
      const again = (await client.getCollection(space)).payload_schema ?? {};
      assert.ok('metadata."region.code"' in again && 'metadata.score' in again, JSON.stringify(Object.keys(again)));
    } finally {
      await client.deleteCollection(space);
    }
  });

  it('partitions a new space by tenant: HNSW per tenant (m 0, payload_m), tenant_id marked is_tenant', async () => {
    const space = `layout_${randomUUID().slice(0, 8)}`;
    await open().ensureSpace(space, { dimensions: 4 });
    try {
      const info = await raw().getCollection(space);
      assert.equal(info.config.hnsw_config.m, 0);
      assert.ok((info.config.hnsw_config.payload_m ?? 0) > 0);
      assert.deepEqual((info.payload_schema?.tenant_id?.params as { is_tenant?: boolean } | undefined)?.is_tenant, true);
    } finally {
      await raw().deleteCollection(space);
    }
  });

  it('checks the server version instead of switching the check off', async () => {
    await open().checkServer();
    const wrong = new QdrantVectorIndex({ url: 'http://127.0.0.1:1' });
    await assert.rejects(wrong.checkServer());
  });
});
