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

interface MemoryIndex {
  dimensions: number;
  points: Map<string, StoredPoint>;
  /** Points holding each sparse term: the IDF statistics Qdrant keeps per collection. */
  termCounts: Map<number, number>;
}

/**
 * The zero-setup vector index: exact search over an in-memory copy, persisted in the SQL database
 * (PGlite by default) so it survives restarts and kills. One process owns it, which the embedded
 * database's lock already guarantees. Semantics follow the Qdrant adapter: cosine dense scores,
 * BM25 with collection-wide IDF for sparse, RRF (k = RRF_K) to fuse.
 */
export class EmbeddedVectorIndex implements VectorIndex {
  readonly kind = 'embedded' as const;
  private readonly indexes = new Map<string, MemoryIndex>();
  private readonly aliases = new Map<string, string>();

  private constructor(private readonly db: SqlDatabase) {}

  /** Its tables are migrations (migrations/022): run `migrate` first. */
  static async open(db: SqlDatabase): Promise<EmbeddedVectorIndex> {
    const index = new EmbeddedVectorIndex(db);
    for (const row of await db.query<{ alias: string; index_name: string }>('select alias, index_name from vector_aliases')) index.aliases.set(row.alias, row.index_name);
    for (const row of await db.query<{ name: string; dimensions: number }>('select name, dimensions from vector_indexes')) {
      index.indexes.set(row.name, { dimensions: row.dimensions, points: new Map(), termCounts: new Map() });
    }
    const rows = await db.query<{ index_name: string; id: string; dense: Uint8Array; sparse_indices: Uint8Array; sparse_values: Uint8Array; payload: ChunkPayload }>(
      'select index_name, id, dense, sparse_indices, sparse_values, payload from vector_points',
    );
    for (const row of rows) {
      const memory = index.indexes.get(row.index_name);
      if (!memory) continue;
      index.put(memory, {
        id: row.id,
        dense: new Float32Array(copyBytes(row.dense)),
        sparse: { indices: [...new Uint32Array(copyBytes(row.sparse_indices))], values: [...new Float32Array(copyBytes(row.sparse_values))] },
        payload: row.payload,
      });
    }
    return index;
  }

  async ensureIndex(name: string, options: { dimensions: number }): Promise<void> {
    const existing = this.indexes.get(name);
    if (existing) {
      if (existing.dimensions !== options.dimensions) throw new Error(`index ${name} holds ${existing.dimensions}-dimensional vectors, not ${options.dimensions}`);
      return;
    }
    await this.db.query('insert into vector_indexes (name, dimensions) values ($1, $2) on conflict (name) do nothing', [name, options.dimensions]);
    this.indexes.set(name, { dimensions: options.dimensions, points: new Map(), termCounts: new Map() });
  }

  async dropIndex(name: string): Promise<void> {
    await this.db.query('delete from vector_indexes where name = $1', [name]);
    this.indexes.delete(name);
    // Like Qdrant: an index takes its aliases with it.
    for (const [alias, target] of this.aliases) if (target === name) this.aliases.delete(alias);
  }

  async setAlias(alias: string, indexName: string): Promise<void> {
    if (!this.indexes.has(indexName)) throw new Error(`index ${indexName} does not exist`);
    if (this.indexes.has(alias)) throw new Error(`${alias} is an index, not an alias`);
    await this.db.query(
      'insert into vector_aliases (alias, index_name) values ($1, $2) on conflict (alias) do update set index_name = excluded.index_name',
      [alias, indexName],
    );
    this.aliases.set(alias, indexName);
  }

  async resolveAlias(alias: string): Promise<string | null> {
    return this.aliases.get(alias) ?? null;
  }

  async deleteAlias(alias: string): Promise<void> {
    await this.db.query('delete from vector_aliases where alias = $1', [alias]);
    this.aliases.delete(alias);
  }

  async upsert(name: string, points: IndexPoint[]): Promise<void> {
    const memory = this.require(this.resolve(name));
    const stored = points.map((point) => {
      if (point.dense.length !== memory.dimensions) throw new Error(`point ${point.id} has ${point.dense.length} dimensions, index ${name} expects ${memory.dimensions}`);
      return { id: point.id, dense: normalize(point.dense), sparse: point.sparse, payload: point.payload };
    });
    // Persist first: memory only ever shows what is durable.
    await this.db.transaction(async (tx) => {
      for (const point of stored) {
        await tx.query(
          `insert into vector_points (index_name, id, dense, sparse_indices, sparse_values, payload) values ($1, $2, $3, $4, $5, $6)
           on conflict (index_name, id) do update set dense = excluded.dense, sparse_indices = excluded.sparse_indices,
             sparse_values = excluded.sparse_values, payload = excluded.payload`,
          [this.resolve(name), point.id, bytesOf(point.dense), bytesOf(Uint32Array.from(point.sparse.indices)), bytesOf(Float32Array.from(point.sparse.values)), JSON.stringify(point.payload)],
        );
      }
    });
    for (const point of stored) this.put(memory, point);
  }

  async deletePoints(name: string, filter: PointFilter): Promise<void> {
    const memory = this.indexes.get(this.resolve(name));
    if (!memory) return;
    const ids = [...memory.points.values()].filter((p) => matchesFilter(p.payload, filter)).map((p) => p.id);
    if (ids.length === 0) return;
    await this.db.query('delete from vector_points where index_name = $1 and id = any($2::text[])', [this.resolve(name), ids]);
    for (const id of ids) this.remove(memory, id);
  }

  async count(name: string, filter: PointFilter): Promise<number> {
    const memory = this.indexes.get(this.resolve(name));
    if (!memory) return 0;
    let n = 0;
    for (const point of memory.points.values()) if (matchesFilter(point.payload, filter)) n++;
    return n;
  }

  async search(name: string, request: SearchRequest): Promise<SearchHit[]> {
    const memory = this.indexes.get(this.resolve(name));
    if (!memory) return [];
    const candidates = [...memory.points.values()].filter((p) => matchesFilter(p.payload, request.filter));
    const prefetch = request.prefetchLimit ?? defaultPrefetchLimit(request.limit);
    const dense = request.dense ? this.denseRanking(candidates, request.dense, request.sparse ? prefetch : request.limit) : undefined;
    const sparse = request.sparse ? this.sparseRanking(memory, candidates, request.sparse, request.dense ? prefetch : request.limit) : undefined;
    if (dense && sparse) return fuseWithRrf([dense, sparse], request.limit);
    return dense ?? sparse ?? [];
  }

  async close(): Promise<void> {
    this.indexes.clear();
    this.aliases.clear();
  }

  /** An alias's index, or the name itself. */
  private resolve(name: string): string {
    return this.aliases.get(name) ?? name;
  }

  private denseRanking(candidates: StoredPoint[], query: number[], limit: number): SearchHit[] {
    const q = normalize(query);
    const scored = candidates.map((p) => ({ id: p.id, score: dot(q, p.dense), payload: p.payload }));
    return topK(scored, limit);
  }

  private sparseRanking(memory: MemoryIndex, candidates: StoredPoint[], query: SparseVector, limit: number): SearchHit[] {
    const weights = new Map<number, number>();
    query.indices.forEach((term, i) => {
      const idf = inverseDocumentFrequency(memory.points.size, memory.termCounts.get(term) ?? 0);
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

  private require(name: string): MemoryIndex {
    const memory = this.indexes.get(name);
    if (!memory) throw new Error(`index ${name} does not exist`);
    return memory;
  }

  private put(memory: MemoryIndex, point: StoredPoint): void {
    this.remove(memory, point.id);
    memory.points.set(point.id, point);
    for (const term of point.sparse.indices) memory.termCounts.set(term, (memory.termCounts.get(term) ?? 0) + 1);
  }

  private remove(memory: MemoryIndex, id: string): void {
    const old = memory.points.get(id);
    if (!old) return;
    memory.points.delete(id);
    for (const term of old.sparse.indices) {
      const left = (memory.termCounts.get(term) ?? 1) - 1;
      if (left > 0) memory.termCounts.set(term, left);
      else memory.termCounts.delete(term);
    }
  }
}

/** RRF over ranked lists: score = Σ 1 / (k + rank), ranks from 1. Exported for the query pipeline. */
export function fuseWithRrf(rankings: SearchHit[][], limit: number): SearchHit[] {
  const fused = new Map<string, SearchHit>();
  for (const ranking of rankings) {
    ranking.forEach((hit, position) => {
      const entry = fused.get(hit.id) ?? { ...hit, score: 0 };
      entry.score += 1 / (RRF_K + position + 1);
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
