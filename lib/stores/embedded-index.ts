import { inverseDocumentFrequency, type SparseVector } from '../text/sparse';
import type { SqlDatabase } from './sql';
import {
  defaultPrefetchLimit,
  matchesFilter,
  RRF_K,
  type ChunkPayload,
  type IndexPoint,
  type PointFilter,
  type SearchHit,
  type SearchRequest,
  type VectorIndex,
} from './vector-index';

interface StoredPoint {
  id: string;
  dense: Float32Array;
  sparse: SparseVector;
  payload: ChunkPayload;
}

/** The points of one tenant's collection generation, with the BM25 statistics Qdrant keeps for that corpus. */
interface Scope {
  points: Map<string, StoredPoint>;
  /** Points of the scope holding each sparse term. */
  termCounts: Map<number, number>;
}

interface Space {
  dimensions: number;
  scopes: Map<string, Scope>;
  /** Which scope each point is in. */
  scopeOf: Map<string, string>;
}

const scopeKey = (payload: Pick<ChunkPayload, 'tenant_id' | 'collection' | 'generation'>) => `${payload.tenant_id}\n${payload.collection}\n${payload.generation ?? ''}`;

/**
 * The zero-setup vector index: exact search over an in-memory copy, persisted in the SQL database
 * (PGlite by default) so it survives restarts and kills. One process owns it, which the embedded
 * database's lock already guarantees. Semantics follow the Qdrant adapter: spaces shared by every
 * tenant, cosine dense scores, BM25 with IDF over the searched collection generation only, RRF
 * (k = RRF_K, ranks from 0) to fuse. Its tables are migrations (migrations/022): run them first.
 */
export class EmbeddedVectorIndex implements VectorIndex {
  readonly kind = 'embedded' as const;
  private readonly spacesByName = new Map<string, Space>();

  private constructor(private readonly db: SqlDatabase) {}

  static async open(db: SqlDatabase): Promise<EmbeddedVectorIndex> {
    const index = new EmbeddedVectorIndex(db);
    for (const row of await db.query<{ name: string; dimensions: number }>('select name, dimensions from vector_indexes')) {
      index.spacesByName.set(row.name, { dimensions: row.dimensions, scopes: new Map(), scopeOf: new Map() });
    }
    const rows = await db.query<{ index_name: string; id: string; dense: Uint8Array; sparse_indices: Uint8Array; sparse_values: Uint8Array; payload: ChunkPayload }>(
      'select index_name, id, dense, sparse_indices, sparse_values, payload from vector_points',
    );
    for (const row of rows) {
      const space = index.spacesByName.get(row.index_name);
      if (!space) continue;
      index.put(space, {
        id: row.id,
        dense: new Float32Array(copyBytes(row.dense)),
        sparse: { indices: [...new Uint32Array(copyBytes(row.sparse_indices))], values: [...new Float32Array(copyBytes(row.sparse_values))] },
        payload: row.payload,
      });
    }
    return index;
  }

  async ensureSpace(name: string, options: { dimensions: number }): Promise<void> {
    const existing = this.spacesByName.get(name);
    if (existing) {
      if (existing.dimensions !== options.dimensions) throw new Error(`space ${name} holds ${existing.dimensions}-dimensional vectors, not ${options.dimensions}`);
      return;
    }
    await this.db.query('insert into vector_indexes (name, dimensions) values ($1, $2) on conflict (name) do nothing', [name, options.dimensions]);
    this.spacesByName.set(name, { dimensions: options.dimensions, scopes: new Map(), scopeOf: new Map() });
  }

  /** Exact search filters without indexes: nothing to create. */
  async ensureFilterable(): Promise<void> {}

  async spaces(): Promise<string[]> {
    return [...this.spacesByName.keys()].sort();
  }

  async dropSpace(name: string): Promise<void> {
    await this.db.query('delete from vector_indexes where name = $1', [name]);
    this.spacesByName.delete(name);
  }

  async upsert(name: string, points: IndexPoint[]): Promise<void> {
    const space = this.require(name);
    const stored = points.map((point) => {
      if (point.dense.length !== space.dimensions) throw new Error(`point ${point.id} has ${point.dense.length} dimensions, space ${name} expects ${space.dimensions}`);
      return { id: point.id, dense: normalize(point.dense), sparse: point.sparse, payload: point.payload };
    });
    // Persist first: memory only ever shows what is durable.
    await this.db.transaction(async (tx) => {
      for (const point of stored) {
        await tx.query(
          `insert into vector_points (index_name, id, dense, sparse_indices, sparse_values, payload) values ($1, $2, $3, $4, $5, $6)
           on conflict (index_name, id) do update set dense = excluded.dense, sparse_indices = excluded.sparse_indices,
             sparse_values = excluded.sparse_values, payload = excluded.payload`,
          [name, point.id, bytesOf(point.dense), bytesOf(Uint32Array.from(point.sparse.indices)), bytesOf(Float32Array.from(point.sparse.values)), JSON.stringify(point.payload)],
        );
      }
    });
    for (const point of stored) this.put(space, point);
  }

  async deletePoints(name: string, filter: PointFilter): Promise<void> {
    const space = this.spacesByName.get(name);
    if (!space) return;
    const ids = this.matching(space, filter).map((p) => p.id);
    if (ids.length === 0) return;
    await this.db.query('delete from vector_points where index_name = $1 and id = any($2::text[])', [name, ids]);
    for (const id of ids) this.remove(space, id);
  }

  async count(name: string, filter: PointFilter): Promise<number> {
    const space = this.spacesByName.get(name);
    return space ? this.matching(space, filter).length : 0;
  }

  async search(name: string, request: SearchRequest): Promise<SearchHit[]> {
    const space = this.spacesByName.get(name);
    const scope = space?.scopes.get(scopeKey({ tenant_id: request.filter.tenantId, collection: request.filter.collection, generation: request.filter.generation }));
    if (!scope) return [];
    const candidates = [...scope.points.values()].filter((p) => matchesFilter(p.payload, request.filter));
    const prefetch = request.prefetchLimit ?? defaultPrefetchLimit(request.limit);
    const dense = request.dense ? this.denseRanking(candidates, request.dense, request.sparse ? prefetch : request.limit) : undefined;
    const sparse = request.sparse ? this.sparseRanking(scope, candidates, request.sparse, request.dense ? prefetch : request.limit) : undefined;
    if (dense && sparse) return fuseWithRrf([dense, sparse], request.limit);
    return dense ?? sparse ?? [];
  }

  async close(): Promise<void> {
    this.spacesByName.clear();
  }

  /** Points matching a filter, reading only the scopes it can match. */
  private matching(space: Space, filter: PointFilter): StoredPoint[] {
    const found: StoredPoint[] = [];
    for (const [key, scope] of space.scopes) {
      const [tenant, collection, generation] = key.split('\n');
      if (tenant !== filter.tenantId || (filter.collection !== undefined && collection !== filter.collection)) continue;
      if (filter.generation !== undefined && generation !== String(filter.generation)) continue;
      for (const point of scope.points.values()) if (matchesFilter(point.payload, filter)) found.push(point);
    }
    return found;
  }

  private denseRanking(candidates: StoredPoint[], query: number[], limit: number): SearchHit[] {
    const q = normalize(query);
    const scored = candidates.map((p) => ({ id: p.id, score: dot(q, p.dense), payload: p.payload }));
    return topK(scored, limit);
  }

  private sparseRanking(scope: Scope, candidates: StoredPoint[], query: SparseVector, limit: number): SearchHit[] {
    const weights = new Map<number, number>();
    query.indices.forEach((term, i) => {
      const idf = inverseDocumentFrequency(scope.points.size, scope.termCounts.get(term) ?? 0);
      weights.set(term, (query.values[i] ?? 0) * idf);
    });
    const scored: SearchHit[] = [];
    for (const point of candidates) {
      let score = 0;
      let matched = false;
      point.sparse.indices.forEach((term, i) => {
        const weight = weights.get(term);
        if (weight !== undefined) {
          matched = true;
          score += weight * (point.sparse.values[i] ?? 0);
        }
      });
      // Like Qdrant, sparse search only returns points that share a term with the query.
      if (matched) scored.push({ id: point.id, score, payload: point.payload });
    }
    return topK(scored, limit);
  }

  private require(name: string): Space {
    const space = this.spacesByName.get(name);
    if (!space) throw new Error(`space ${name} does not exist`);
    return space;
  }

  private put(space: Space, point: StoredPoint): void {
    this.remove(space, point.id);
    const key = scopeKey(point.payload);
    let scope = space.scopes.get(key);
    if (!scope) space.scopes.set(key, (scope = { points: new Map(), termCounts: new Map() }));
    scope.points.set(point.id, point);
    space.scopeOf.set(point.id, key);
    for (const term of point.sparse.indices) scope.termCounts.set(term, (scope.termCounts.get(term) ?? 0) + 1);
  }

  private remove(space: Space, id: string): void {
    const key = space.scopeOf.get(id);
    const scope = key === undefined ? undefined : space.scopes.get(key);
    const old = scope?.points.get(id);
    if (!scope || !old || key === undefined) return;
    scope.points.delete(id);
    space.scopeOf.delete(id);
    for (const term of old.sparse.indices) {
      const left = (scope.termCounts.get(term) ?? 1) - 1;
      if (left > 0) scope.termCounts.set(term, left);
      else scope.termCounts.delete(term);
    }
    if (scope.points.size === 0) space.scopes.delete(key);
  }
}

/** RRF over ranked lists: score = Σ 1 / (k + rank), ranks from 0, as Qdrant fuses. */
export function fuseWithRrf(rankings: SearchHit[][], limit: number): SearchHit[] {
  const fused = new Map<string, SearchHit>();
  for (const ranking of rankings) {
    ranking.forEach((hit, position) => {
      const entry = fused.get(hit.id) ?? { ...hit, score: 0 };
      entry.score += 1 / (RRF_K + position);
      fused.set(hit.id, entry);
    });
  }
  return topK([...fused.values()], limit);
}

/** Highest score first; ties by id so both adapters order equal scores the same way. */
function topK(hits: SearchHit[], limit: number): SearchHit[] {
  return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit);
}

function normalize(vector: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(vector);
  let norm = 0;
  for (const x of out) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / norm;
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function bytesOf(array: Float32Array | Uint32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Typed-array views need aligned, owned buffers; database drivers hand back slices. */
function copyBytes(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
