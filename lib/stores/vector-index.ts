import type { BlockKind } from '../ingest/pdf-layout';
import type { SparseVector } from '../text/sparse';

/** What every indexed chunk carries; snake_case because it is stored as-is in Qdrant payloads. */
export interface ChunkPayload {
  tenant_id: string;
  collection: string;
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
  documentId?: string;
  version?: number;
  /** Versions strictly older than this one (clean-up after activation). */
  versionBelow?: number;
  /** Exact match on user metadata; an array matches any of its values. */
  metadata?: Record<string, MetadataValue | MetadataValue[]>;
}

export interface SearchRequest {
  dense?: number[];
  sparse?: SparseVector;
  filter: PointFilter;
  limit: number;
  /** Candidates taken from each of dense and sparse before fusion. */
  prefetchLimit?: number;
}

export interface SearchHit {
  id: string;
  score: number;
  payload: ChunkPayload;
}

/** Reciprocal rank fusion constant, used by both adapters so they rank alike. */
export const RRF_K = 60;

/**
 * The vector index port. Qdrant in production, the embedded index for zero-setup runs and CI;
 * test/contract/vector-index.contract.ts holds both to the same behaviour.
 */
export interface VectorIndex {
  readonly kind: 'qdrant' | 'embedded';
  ensureIndex(name: string, options: { dimensions: number }): Promise<void>;
  dropIndex(name: string): Promise<void>;
  /** Idempotent: the same id overwrites, so a retried batch never duplicates points. */
  upsert(name: string, points: IndexPoint[]): Promise<void>;
  deletePoints(name: string, filter: PointFilter): Promise<void>;
  count(name: string, filter: PointFilter): Promise<number>;
  /** Dense only, sparse only, or both fused with RRF when both are given. */
  search(name: string, request: SearchRequest): Promise<SearchHit[]>;
  /**
   * Points `alias` at an existing index in one atomic step, creating or moving it. Every other
   * method accepts an alias wherever it takes an index name, and acts on the index behind it.
   */
  setAlias(alias: string, indexName: string): Promise<void>;
  /** The index an alias points at, or null. */
  resolveAlias(alias: string): Promise<string | null>;
  deleteAlias(alias: string): Promise<void>;
  close(): Promise<void>;
}

export function matchesFilter(payload: ChunkPayload, filter: PointFilter): boolean {
  if (payload.tenant_id !== filter.tenantId) return false;
  if (filter.collection !== undefined && payload.collection !== filter.collection) return false;
  if (filter.documentId !== undefined && payload.document_id !== filter.documentId) return false;
  if (filter.version !== undefined && payload.version !== filter.version) return false;
  if (filter.versionBelow !== undefined && !(payload.version < filter.versionBelow)) return false;
  for (const [key, expected] of Object.entries(filter.metadata ?? {})) {
    const actual = payload.metadata[key];
    const allowed = Array.isArray(expected) ? expected : [expected];
    if (!allowed.some((value) => value === actual)) return false;
  }
  return true;
}

export function defaultPrefetchLimit(limit: number): number {
  return Math.max(limit * 4, 50);
}
