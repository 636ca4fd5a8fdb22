import { QdrantClient } from '@qdrant/js-client-rest';
import {
  defaultPrefetchLimit,
  RRF_K,
  type ChunkPayload,
  type FilterableType,
  type IndexPoint,
  type MetadataValue,
  type PointFilter,
  type SearchFilter,
  type SearchHit,
  type SearchRequest,
  type VectorIndex,
} from './vector-index';

const DENSE = 'dense';
const SPARSE = 'bm25';
/** Per-tenant HNSW graphs: Qdrant's layout for partitioning one collection by a tenant field. */
const PAYLOAD_M = 16;
/** The first release whose sparse search takes its IDF corpus from a filter (per tenant collection). */
const MINIMUM_SERVER = [1, 19] as const;

type Condition = Record<string, unknown>;

/** Every point field queries, deletions and counts filter on, with its payload index type. */
const PAYLOAD_INDEXES: [string, unknown][] = [
  ['tenant_id', { type: 'keyword', is_tenant: true }],
  ['collection', 'keyword'],
  ['generation', 'integer'],
  ['document_id', 'keyword'],
  ['version', 'integer'],
  ['chunk_index', 'integer'],
];

/**
 * Production vector index: one Qdrant collection per embedding model (the space), shared by
 * every tenant and partitioned by `tenant_id` (`is_tenant`, HNSW built per tenant: `m: 0`,
 * `payload_m`). Named dense (cosine) and sparse (BM25, `idf` modifier) vectors; hybrid search fused
 * server-side with the Query API's prefetch + RRF, the sparse side's IDF taken over the searched
 * tenant collection generation only. Postgres decides the generation; there are no aliases.
 */
export class QdrantVectorIndex implements VectorIndex {
  readonly kind = 'qdrant' as const;
  private readonly client: QdrantClient;
  private checked?: Promise<void>;

  /** `acceptEncoding` is for measuring only (npm run bench:query): the default is what the adapter should ask for. */
  constructor(private readonly options: { url: string; apiKey?: string; timeoutMs?: number; acceptEncoding?: string }) {
    this.client = new QdrantClient({
      url: options.url,
      apiKey: options.apiKey,
      timeout: options.timeoutMs ?? 30_000,
      // Qdrant answers kept-alive requests gzip-compressed and chunked, and fetch then waits ~40 ms
      // per response (measured; npm run bench:query): plain bodies on loopback and in a cluster.
      headers: { 'accept-encoding': options.acceptEncoding ?? 'identity' },
      // Checked below, once, and refused rather than warned about.
      checkCompatibility: false,
    });
  }

  /** Fails fast, naming both versions, against a server older than the features this adapter uses. */
  checkServer(): Promise<void> {
    this.checked ??= (async () => {
      const { version } = await this.client.versionInfo();
      const [major = 0, minor = 0] = version.split('.').map(Number);
      if (major !== MINIMUM_SERVER[0] || minor < MINIMUM_SERVER[1]) {
        throw new Error(`Qdrant ${version} at ${this.options.url} is not supported: this platform needs ${MINIMUM_SERVER.join('.')} or a newer 1.x (IDF scoped per tenant collection)`);
      }
    })();
    this.checked.catch(() => (this.checked = undefined));
    return this.checked;
  }

  async ensureSpace(name: string, options: { dimensions: number }): Promise<void> {
    await this.checkServer();
    if ((await this.client.collectionExists(name)).exists) {
      const info = await this.client.getCollection(name);
      const vectors = info.config.params.vectors as Record<string, { size: number }> | undefined;
      const size = vectors?.[DENSE]?.size;
      if (size !== options.dimensions) throw new Error(`space ${name} holds ${size}-dimensional vectors, not ${options.dimensions}`);
    } else {
      try {
        await this.client.createCollection(name, {
          vectors: { [DENSE]: { size: options.dimensions, distance: 'Cosine' } },
          sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
          hnsw_config: { m: 0, payload_m: PAYLOAD_M },
        });
      } catch (error) {
        // Two processes creating the same space at once: the loser finds it there.
        if (!(await this.client.collectionExists(name)).exists) throw error;
      }
    }
    // Every start completes what an interrupted one left undone.
    await this.ensurePayloadIndexes(name, PAYLOAD_INDEXES);
  }

  async ensureFilterable(name: string, keys: Record<string, FilterableType>): Promise<void> {
    await this.ensurePayloadIndexes(name, Object.entries(keys).map(([key, type]) => [metadataPath(key), type]));
  }

  async spaces(): Promise<string[]> {
    return (await this.client.getCollections()).collections.map((c) => c.name).sort();
  }

  async dropSpace(name: string): Promise<void> {
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
    if (!(await this.client.collectionExists(name)).exists) return;
    await this.client.delete(name, { wait: true, filter: toQdrantFilter(filter) });
  }

  async count(name: string, filter: PointFilter): Promise<number> {
    if (!(await this.client.collectionExists(name)).exists) return 0;
    return (await this.client.count(name, { filter: toQdrantFilter(filter), exact: true })).count;
  }

  async search(name: string, request: SearchRequest): Promise<SearchHit[]> {
    try {
      return await this.query(name, request);
    } catch (error) {
      // Like the embedded index, a space that does not exist yet has no hits.
      if ((error as { status?: number }).status === 404) return [];
      throw error;
    }
  }

  async close(): Promise<void> {}

  private async query(name: string, request: SearchRequest): Promise<SearchHit[]> {
    const filter = toQdrantFilter(request.filter);
    // BM25's IDF over this tenant's collection generation, not over the whole shared space.
    const sparseParams = { idf: { corpus: toQdrantFilter(corpusOf(request.filter)) } };
    const base = { filter, limit: request.limit, with_payload: true } as const;
    let result;
    if (request.dense && request.sparse) {
      const prefetchLimit = request.prefetchLimit ?? defaultPrefetchLimit(request.limit);
      result = await this.client.query(name, {
        ...base,
        prefetch: [
          { query: request.dense, using: DENSE, limit: prefetchLimit, filter },
          { query: request.sparse, using: SPARSE, limit: prefetchLimit, filter, params: sparseParams },
        ],
        query: { rrf: { k: RRF_K } },
      });
    } else if (request.dense) {
      result = await this.client.query(name, { ...base, query: request.dense, using: DENSE });
    } else if (request.sparse) {
      result = await this.client.query(name, { ...base, query: request.sparse, using: SPARSE, params: sparseParams });
    } else {
      return [];
    }
    return result.points.map((p) => ({ id: String(p.id), score: p.score, payload: p.payload as unknown as ChunkPayload }));
  }

  private async ensurePayloadIndexes(name: string, fields: [string, unknown][]): Promise<void> {
    const existing = (await this.client.getCollection(name)).payload_schema ?? {};
    for (const [field, schema] of fields) {
      if (field in existing) continue;
      await this.client.createPayloadIndex(name, { field_name: field, field_schema: schema as never, wait: true });
    }
  }
}

function corpusOf(filter: SearchFilter): PointFilter {
  return { tenantId: filter.tenantId, collection: filter.collection, ...(filter.generation !== undefined && { generation: filter.generation }) };
}

/**
 * Metadata keys may hold dots, which Qdrant's JSON path reads as nesting unless the key is quoted;
 * other keys stay bare, as Qdrant itself writes them (its payload schema lists them so).
 */
function metadataPath(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? `metadata.${key}` : `metadata."${key}"`;
}

export function toQdrantFilter(filter: PointFilter): { must: Condition[] } {
  const must: Condition[] = [{ key: 'tenant_id', match: { value: filter.tenantId } }];
  if (filter.collection !== undefined) must.push({ key: 'collection', match: { value: filter.collection } });
  if (filter.generation !== undefined) must.push({ key: 'generation', match: { value: filter.generation } });
  if (filter.documentId !== undefined) must.push({ key: 'document_id', match: { value: filter.documentId } });
  if (filter.version !== undefined) must.push({ key: 'version', match: { value: filter.version } });
  if (filter.versionBelow !== undefined) must.push({ key: 'version', range: { lt: filter.versionBelow } });
  for (const [key, expected] of Object.entries(filter.metadata ?? {})) must.push(metadataCondition(metadataPath(key), expected));
  return { must };
}

/**
 * One metadata filter as Qdrant conditions, meaning what the embedded index means: match a value
 * (a float by an exact range, since Qdrant matches only strings, integers and booleans), and an
 * array of values by any of them (one `match any` for strings or integers, else alternatives).
 * An empty array matches nothing.
 */
function metadataCondition(key: string, expected: MetadataValue | MetadataValue[]): Condition {
  const values = Array.isArray(expected) ? expected : [expected];
  const one = (value: MetadataValue): Condition =>
    typeof value === 'number' && !Number.isInteger(value) ? { key, range: { gte: value, lte: value } } : { key, match: { value } };
  if (values.length === 1) return one(values[0] as MetadataValue);
  if (values.length > 0 && (values.every((v) => typeof v === 'string') || values.every((v) => Number.isInteger(v)))) return { key, match: { any: values } };
  if (values.length === 0) return { must: [{ key, match: { any: [] } }, { is_empty: { key } }] };
  return { should: values.map(one) };
}
