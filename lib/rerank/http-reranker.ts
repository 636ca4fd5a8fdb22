import { ProviderError } from '../models/provider-error';
import { joinUrl, postToProvider } from '../models/provider-http';
import type { RetrievedChunk } from '../query/types';
import type { Reranker } from './reranker';

interface RerankResponse {
  results?: { index: number; relevance_score: number }[];
}

/**
 * A provider's rerank endpoint in the shape Cohere, Jina, Voyage, vLLM and LiteLLM share:
 * `POST {baseUrl}/rerank { model, query, documents }` → `results[{ index, relevance_score }]`.
 */
export class HttpReranker implements Reranker {
  readonly name: string;

  constructor(private readonly options: { baseUrl: string; apiKey: string; model: string; timeoutMs: number }) {
    this.name = `http:${options.model}`;
  }

  async rerank(question: string, chunks: Pick<RetrievedChunk, 'text'>[], signal?: AbortSignal): Promise<number[]> {
    if (chunks.length === 0) return [];
    const { json } = await postToProvider<RerankResponse>({
      provider: this.name,
      url: joinUrl(this.options.baseUrl, '/rerank'),
      headers: { authorization: `Bearer ${this.options.apiKey}` },
      body: { model: this.options.model, query: question, documents: chunks.map((chunk) => chunk.text) },
      timeoutMs: this.options.timeoutMs,
      signal,
    });
    const scores = new Array<number>(chunks.length).fill(Number.NEGATIVE_INFINITY);
    for (const result of json.results ?? []) if (result.index >= 0 && result.index < chunks.length) scores[result.index] = result.relevance_score;
    if (!json.results || scores.includes(Number.NEGATIVE_INFINITY)) {
      throw new ProviderError(`${this.name} did not score every document`, this.name, 'retryable');
    }
    return scores;
  }
}
