/** Types that cross the query workflow's boundary. Pure: safe in the workflow sandbox. */
import type { BlockKind } from '../ingest/pdf-layout';
import type { PointFilter } from '../stores/vector-index';

/** The retrieval failure the API turns into a 404: non-retryable in the workflow. */
export const COLLECTION_NOT_FOUND = 'collection_not_found';

export interface RetrieveInput {
  tenantId: string;
  collection: string;
  question: string;
  topK: number;
  /** Exact match on document metadata; an array matches any of its values. */
  filters: NonNullable<PointFilter['metadata']>;
  /** Who asked, for the usage ledger; unset on runs started before the ledger. */
  caller?: { keyId: string | null; requestId: string | null; traceId?: string | null };
}

/** Who a query's model and embedding calls are charged to, handed to the activities that make them. */
export interface UsageContext {
  tenantId: string;
  collection: string;
  keyId: string | null;
  requestId: string | null;
  traceId?: string | null;
}

export interface RetrievedChunk {
  chunkId: string;
  documentId: string;
  version: number;
  chunkIndex: number;
  title: string | null;
  pageStart: number | null;
  pageEnd: number | null;
  headings: string[];
  metadata: Record<string, unknown>;
  text: string;
  /** What the chunk is: body text, or contents, index, references, a caption. */
  kind: BlockKind;
  /** Reciprocal-rank-fusion score of dense and BM25 rankings. */
  score: number;
}

export interface RetrieveResult {
  chunks: RetrievedChunk[];
  /** Unrounded; the API rounds once when it builds the response. */
  latencyMs: { embed: number; search: number };
}

export const QUERY_TASK_QUEUE = 'query';
