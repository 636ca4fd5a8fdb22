import { QdrantClient } from '@qdrant/js-client-rest';
import { defaultPrefetchLimit, RRF_K, type ChunkPayload, type IndexPoint, type PointFilter, type SearchHit, type SearchRequest, type VectorIndex } from './vector-index';

const DENSE = 'dense';
const SPARSE = 'bm25';

type Condition = Record<string, unknown>;

/**
 * Production vector index. Named dense (cosine) and sparse (BM25, server-side IDF) vectors;
 * payload indexes on tenant, collection, document and version; hybrid search fused server-side
 * with the Query API's prefetch + RRF.
 */
export class QdrantVectorIndex implements VectorIndex {
  readonly kind = 'qdrant' as const;
  private readonly client: QdrantClient;

  constructor(options: { url: string; apiKey?: string; timeoutMs?: number }) {
    this.client = new QdrantClient({ url: options.url, apiKey: options.apiKey, timeout: options.timeoutMs ?? 30_000, checkCompatibility: false });
  }

  async ensureIndex(name: string, options: { dimensions: number }): Promise<void> {
    const { exists } = await this.client.collectionExists(name);
    if (exists) {
      const info = await this.client.getCollection(name);
      const vectors = info.config.params.vectors as Record<string, { size: number }> | undefined;
      const size = vectors?.[DENSE]?.size;
      if (size !== options.dimensions) throw new Error(`index ${name} holds ${size}-dimensional vectors, not ${options.dimensions}`);
      return;
    }
    try {
      await this.client.createCollection(name, {
        vectors: { [DENSE]: { size: options.dimensions, distance: 'Cosine' } },
        sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
      });
    } catch (error) {
      // Two workers creating the same index at once: the loser finds it there.
      if (!(await this.client.collectionExists(name)).exists) throw error;
    }
    await Promise.all([
      this.client.createPayloadIndex(name, { field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true }, wait: true }),
      this.client.createPayloadIndex(name, { field_name: 'collection', field_schema: 'keyword', wait: true }),
      this.client.createPayloadIndex(name, { field_name: 'document_id', field_schema: 'keyword', wait: true }),
      this.client.createPayloadIndex(name, { field_name: 'version', field_schema: 'integer', wait: true }),
    ]);
  }

  async dropIndex(name: string): Promise<void> {
    if ((await this.client.collectionExists(name)).exists) await this.client.deleteCollection(name);
  }

  async upsert(name: string, points: IndexPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.client.upsert(name, {
      wait: true,
      points: points.map((p) => ({ id: p.id, vector: { [DENSE]: p.dense, [SPARSE]: p.sparse }, payload: p.payload as unknown as Record<string, unknown> })),
    });
  }

  async deletePoints(name: string, filter: PointFilter): Promise<void> {
    if (!(await this.exists(name))) return;
    await this.client.delete(name, { wait: true, filter: toQdrantFilter(filter) });
  }

  async count(name: string, filter: PointFilter): Promise<number> {
    if (!(await this.exists(name))) return 0;
    return (await this.client.count(name, { filter: toQdrantFilter(filter), exact: true })).count;
  }

  async search(name: string, request: SearchRequest): Promise<SearchHit[]> {
    try {
      return await this.query(name, request);
    } catch (error) {
      // Like the embedded index, an index (or alias) that does not exist yet has no hits.
      if ((error as { status?: number }).status === 404) return [];
      throw error;
    }
  }

  private async query(name: string, request: SearchRequest): Promise<SearchHit[]> {
    const filter = toQdrantFilter(request.filter);
    const base = { filter, limit: request.limit, with_payload: true } as const;
    let result;
    if (request.dense && request.sparse) {
      const prefetchLimit = request.prefetchLimit ?? defaultPrefetchLimit(request.limit);
      result = await this.client.query(name, {
        ...base,
        prefetch: [
          { query: request.dense, using: DENSE, limit: prefetchLimit, filter },
          { query: request.sparse, using: SPARSE, limit: prefetchLimit, filter },
        ],
        query: { rrf: { k: RRF_K } },
      });
    } else if (request.dense) {
      result = await this.client.query(name, { ...base, query: request.dense, using: DENSE });
    } else if (request.sparse) {
      result = await this.client.query(name, { ...base, query: request.sparse, using: SPARSE });
    } else {
      return [];
    }
    return result.points.map((p) => ({ id: String(p.id), score: p.score, payload: p.payload as unknown as ChunkPayload }));
  }

  async setAlias(alias: string, indexName: string): Promise<void> {
    // Delete and create in one request: Qdrant applies the actions atomically, so no search
    // ever finds the alias missing.
    const current = await this.resolveAlias(alias);
    await this.client.updateCollectionAliases({
      actions: [...(current ? [{ delete_alias: { alias_name: alias } }] : []), { create_alias: { collection_name: indexName, alias_name: alias } }],
    });
  }

  async resolveAlias(alias: string): Promise<string | null> {
    const { aliases } = await this.client.getAliases();
    return aliases.find((a) => a.alias_name === alias)?.collection_name ?? null;
  }

  async deleteAlias(alias: string): Promise<void> {
    if (await this.resolveAlias(alias)) await this.client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: alias } }] });
  }

  private async exists(nameOrAlias: string): Promise<boolean> {
    return (await this.client.collectionExists(nameOrAlias)).exists || (await this.resolveAlias(nameOrAlias)) !== null;
  }

  async close(): Promise<void> {}
}

function toQdrantFilter(filter: PointFilter): { must: Condition[] } {
  const must: Condition[] = [{ key: 'tenant_id', match: { value: filter.tenantId } }];
  if (filter.collection !== undefined) must.push({ key: 'collection', match: { value: filter.collection } });
  if (filter.documentId !== undefined) must.push({ key: 'document_id', match: { value: filter.documentId } });
  if (filter.version !== undefined) must.push({ key: 'version', match: { value: filter.version } });
  if (filter.versionBelow !== undefined) must.push({ key: 'version', range: { lt: filter.versionBelow } });
  for (const [key, expected] of Object.entries(filter.metadata ?? {})) {
    must.push({ key: `metadata.${key}`, match: Array.isArray(expected) ? { any: expected } : { value: expected } });
  }
  return { must };
}
