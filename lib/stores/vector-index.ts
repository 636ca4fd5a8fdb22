import type { BlockKind } from '../ingest/pdf-layout';
import type { SparseVector } from '../text/sparse';

/** What every indexed chunk carries; snake_case because it is stored as-is in Qdrant payloads. */
export interface ChunkPayload {
  tenant_id: string;
  collection: string;
  /** The collection's generation the point belongs to; absent on points of a legacy (per-generation) index. */
  generation?: number;
  document_id: string;
  version: number;
  chunk_index: number;
  text: string;
  title: string | null;
  page_start: number | null;
  page_end: number | null;
  headings: string[];
  metadata: Record<string, unknown>;
  /** Body text, or a navigation block (contents, index, references) or a caption; absent on points from before it existed. */
  kind?: BlockKind;
}

export interface IndexPoint {
  id: string;
  dense: number[];
  sparse: SparseVector;
  payload: ChunkPayload;
}

export type MetadataValue = string | number | boolean;

/** Tenant is required by type: no search or deletion can run unscoped. */
export interface PointFilter {
  tenantId: string;
  collection?: string;
  generation?: number;
  documentId?: string;
  version?: number;
  /** Versions strictly older than this one (clean-up after activation). */
  versionBelow?: number;
  /**
   * Exact match on user metadata; an array matches any of its values. A document whose value is
   * an array matches when any of its elements does.
   */
  metadata?: Record<string, MetadataValue | MetadataValue[]>;
}

/**
 * A search reads one generation of one tenant's collection: that is also the corpus whose BM25
 * statistics (IDF) score it, so tenants neither skew nor reveal each other's term statistics.
 * `generation` is unset only for a legacy index that holds a single generation.
 */
export interface SearchFilter extends PointFilter {
  collection: string;
}

export interface SearchRequest {
  dense?: number[];
  sparse?: SparseVector;
  filter: SearchFilter;
  limit: number;
  /** Candidates taken from each of dense and sparse before fusion. */
  prefetchLimit?: number;
}

export interface SearchHit {
  id: string;
  score: number;
  payload: ChunkPayload;
}

/** Payload index types for metadata keys a collection declares filterable. */
export const FILTERABLE_TYPES = ['keyword', 'integer', 'float', 'bool'] as const;
export type FilterableType = (typeof FILTERABLE_TYPES)[number];

/**
 * Reciprocal rank fusion constant, used by both adapters so they rank alike. A fused score is
 * Σ 1 / (k + rank) with ranks from 0, as Qdrant computes it: first in both lists scores 2 / k.
 */
export const RRF_K = 60;

/**
 * The vector index port. A space holds the points of one embedding model for every tenant,
 * collection and generation (Qdrant: one collection per model, partitioned by a tenant payload
 * field); which generation serves is Postgres's record, and every call names it in its filter.
 * Qdrant in production, the embedded index for zero-setup runs and CI;
 * test/contract/vector-index.contract.ts holds both to the same behaviour.
 */
export interface VectorIndex {
  readonly kind: 'qdrant' | 'embedded';
  /** Creates the space and its payload indexes if missing; safe to repeat and to interrupt. */
  ensureSpace(name: string, options: { dimensions: number }): Promise<void>;
  /** Payload indexes for metadata keys that filters will name. Idempotent. */
  ensureFilterable(name: string, keys: Record<string, FilterableType>): Promise<void>;
  /** Every space the index holds (the embedding models in use, and legacy indexes). */
  spaces(): Promise<string[]>;
  /** Removes a whole space: only for legacy per-generation indexes, once nothing reads them. */
  dropSpace(name: string): Promise<void>;
  /** Idempotent: the same id overwrites, so a retried batch never duplicates points. */
  upsert(name: string, points: IndexPoint[]): Promise<void>;
  deletePoints(name: string, filter: PointFilter): Promise<void>;
  count(name: string, filter: PointFilter): Promise<number>;
  /** Dense only, sparse only, or both fused with RRF when both are given. */
  search(name: string, request: SearchRequest): Promise<SearchHit[]>;
  close(): Promise<void>;
}

/** Whether a metadata value of a document meets the filter's expected value(s). */
export function metadataMatches(actual: unknown, expected: MetadataValue | MetadataValue[]): boolean {
  const allowed = Array.isArray(expected) ? expected : [expected];
  const values = Array.isArray(actual) ? actual : [actual];
  return values.some((value) => allowed.some((wanted) => wanted === value));
}

export function matchesFilter(payload: ChunkPayload, filter: PointFilter): boolean {
  if (payload.tenant_id !== filter.tenantId) return false;
  if (filter.collection !== undefined && payload.collection !== filter.collection) return false;
  if (filter.generation !== undefined && payload.generation !== filter.generation) return false;
  if (filter.documentId !== undefined && payload.document_id !== filter.documentId) return false;
  if (filter.version !== undefined && payload.version !== filter.version) return false;
  if (filter.versionBelow !== undefined && !(payload.version < filter.versionBelow)) return false;
  for (const [key, expected] of Object.entries(filter.metadata ?? {})) {
    if (!metadataMatches(payload.metadata[key], expected)) return false;
  }
  return true;
}

export function defaultPrefetchLimit(limit: number): number {
  return Math.max(limit * 4, 50);
}
