/** Types that cross the query workflow's boundary. Pure: safe in the workflow sandbox. */

export type MetadataFilterValue = string | number | boolean;

export interface RetrieveInput {
  tenantId: string;
  collection: string;
  question: string;
  topK: number;
  /** Exact match on document metadata; an array matches any of its values. */
  filters: Record<string, MetadataFilterValue | MetadataFilterValue[]>;
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
  /** Reciprocal-rank-fusion score of dense and BM25 rankings. */
  score: number;
}

export interface RetrieveResult {
  chunks: RetrievedChunk[];
  latencyMs: { embed: number; search: number };
}

export const QUERY_TASK_QUEUE = 'query';
