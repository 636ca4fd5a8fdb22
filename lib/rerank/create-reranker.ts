import type { Config } from '../config';
import type { Embedder } from '../models/embedder';
import { HttpReranker } from './http-reranker';
import type { Reranker } from './reranker';
import { SentenceSimilarityReranker } from './sentence-similarity-reranker';

export function createReranker(config: Config, embedder: Embedder): Reranker | undefined {
  switch (config.RERANKER) {
    case 'none':
      return undefined;
    case 'http':
      return new HttpReranker({ baseUrl: config.RERANK_URL as string, apiKey: config.RERANK_API_KEY ?? '', model: config.RERANK_MODEL, timeoutMs: 15_000 });
    case 'local':
      return new SentenceSimilarityReranker(embedder);
  }
}
