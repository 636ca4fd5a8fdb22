import type { EvidenceScorer } from '../answer/evidence-scorer';
import type { Config } from '../config';
import { EvidenceReranker } from './evidence-reranker';
import { HttpReranker } from './http-reranker';
import type { Reranker } from './reranker';

export function createReranker(config: Config, scorer: EvidenceScorer): Reranker | undefined {
  switch (config.RERANKER) {
    case 'none':
      return undefined;
    case 'http':
      return new HttpReranker({ baseUrl: config.RERANK_URL as string, apiKey: config.RERANK_API_KEY ?? '', model: config.RERANK_MODEL, timeoutMs: 15_000 });
    case 'local':
      return new EvidenceReranker(scorer);
  }
}
