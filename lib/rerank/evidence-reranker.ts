import type { EvidenceScorer } from '../answer/evidence-scorer';
import type { RetrievedChunk } from '../query/types';
import type { Reranker } from './reranker';

/**
 * The best local reranker the registries make possible here (no cross-encoder ships in a package):
 * a chunk is as relevant as its best sentence, scored by meaning and words as the extractive
 * answer scores its quotes (lib/answer/evidence.ts), so one precise passage is not averaged away
 * by the rest of the chunk, as it is in the chunk's single vector.
 */
export class EvidenceReranker implements Reranker {
  readonly name = 'local-evidence';

  constructor(private readonly scorer: EvidenceScorer) {}

  async rerank(question: string, chunks: RetrievedChunk[], signal?: AbortSignal): Promise<number[]> {
    return (await this.scorer.score(question, chunks, signal)).relevance;
  }
}
