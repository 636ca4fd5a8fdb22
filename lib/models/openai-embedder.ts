import { getEncoding, type Tiktoken } from 'js-tiktoken';
import type { Embedder } from './embedder';
import { ProviderError } from './provider-error';

interface OpenAiEmbeddingsResponse {
  data: { index: number; embedding: number[] }[];
}

/**
 * Embeddings from any OpenAI-compatible endpoint (OpenAI, vLLM, TGI, Ollama, LiteLLM).
 * One attempt per call: the activity that calls it is the only retry loop.
 */
export class OpenAiEmbedder implements Embedder {
  readonly maxInputTokens = 8191;
  private readonly encoding: Tiktoken = getEncoding('cl100k_base');

  constructor(
    private readonly options: { baseUrl: string; apiKey: string; model: string; dimensions: number; timeoutMs?: number },
  ) {}

  get modelId(): string {
    return `openai:${this.options.model}@${this.options.dimensions}`;
  }

  get dimensions(): number {
    return this.options.dimensions;
  }

  countTokens(text: string): number {
    return this.encoding.encode(text).length;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    if (texts.length === 0) return [];
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl.replace(/\/$/, '')}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
        body: JSON.stringify({ model: this.options.model, input: texts, dimensions: this.options.dimensions }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      // Network failures and timeouts are worth another attempt.
      throw new ProviderError(`embeddings request failed: ${(error as Error).message}`, 'openai', 'retryable');
    }
    const body = await response.text();
    if (!response.ok) throw ProviderError.fromResponse('openai', response.status, body, response.headers.get('retry-after'));
    let parsed: OpenAiEmbeddingsResponse;
    try {
      parsed = JSON.parse(body) as OpenAiEmbeddingsResponse;
    } catch {
      throw new ProviderError('embeddings response is not JSON', 'openai', 'retryable', response.status);
    }
    const vectors = [...parsed.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    if (vectors.length !== texts.length || vectors.some((v) => v.length !== this.dimensions)) {
      throw new ProviderError(`embeddings response has ${vectors.length} vectors of the wrong shape`, 'openai', 'rejected', response.status);
    }
    return vectors;
  }

  async close(): Promise<void> {}
}
