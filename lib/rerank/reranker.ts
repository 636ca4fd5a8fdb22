import type { RetrievedChunk } from '../query/types';

/** Scores candidates against the question; higher is more relevant, comparable to a configured floor. */
export interface Reranker {
  readonly name: string;
  rerank(question: string, chunks: RetrievedChunk[], signal?: AbortSignal): Promise<number[]>;
}
