import { splitSentences } from '../answer/extractive';
import type { Embedder } from '../models/embedder';
import type { RetrievedChunk } from '../query/types';
import type { Reranker } from './reranker';

/** Windows per chunk: enough to cover a 200-token chunk, few enough to bound the latency. */
const MAX_WINDOWS = 6;

/**
 * The best local reranker the registries make possible here (no cross-encoder ships in a package):
 * late interaction at sentence level with the local embedding model. A chunk's relevance is the
 * best cosine between the question and any window of two consecutive sentences, so one precise
 * passage is not averaged away by the rest of the chunk, as it is in the chunk's single vector.
 */
export class SentenceSimilarityReranker implements Reranker {
  readonly name = 'local-sentence-similarity';

  constructor(private readonly embedder: Embedder) {}

  async rerank(question: string, chunks: Pick<RetrievedChunk, 'text'>[], signal?: AbortSignal): Promise<number[]> {
    const windows = chunks.map((chunk) => sentenceWindows(chunk.text));
    const vectors = await this.embedder.embed([question, ...windows.flat()], signal);
    const [questionVector, ...windowVectors] = vectors;
    if (!questionVector) return [];
    let next = 0;
    return windows.map((chunkWindows) => {
      let best = -1;
      for (let i = 0; i < chunkWindows.length; i++) best = Math.max(best, dot(questionVector, windowVectors[next++] ?? []));
      return best;
    });
  }
}

function sentenceWindows(text: string): string[] {
  const sentences = splitSentences(text);
  if (sentences.length <= 2) return [text];
  const windows: string[] = [];
  for (let i = 0; i < sentences.length - 1 && windows.length < MAX_WINDOWS; i++) windows.push(`${sentences[i]} ${sentences[i + 1]}`);
  return windows;
}

/** The model's vectors are normalised: the dot product is the cosine. */
function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}
