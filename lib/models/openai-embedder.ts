import { getEncoding, type Tiktoken } from 'js-tiktoken';
import type { Embedder } from './embedder';
import { ProviderError } from './provider-error';
import { joinUrl, postToProvider } from './provider-http';

interface OpenAiEmbeddingsResponse {
  data: { index: number; embedding: number[] }[];
}

/**
 * Embeddings from any OpenAI-compatible endpoint (OpenAI, vLLM, TGI, Ollama, LiteLLM).
 * One attempt per call: the activity that calls it is the only retry loop.
 */
export class OpenAiEmbedder implements Embedder {
  readonly maxInputTokens = 8191;
  readonly provider = 'openai';
  readonly tokenizer = { kind: 'tiktoken', encoding: 'cl100k_base' } as const;
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
    const { json, status } = await postToProvider<OpenAiEmbeddingsResponse>({
      provider: 'openai',
      url: joinUrl(this.options.baseUrl, '/embeddings'),
      headers: { authorization: `Bearer ${this.options.apiKey}` },
      body: { model: this.options.model, input: texts, dimensions: this.options.dimensions },
      timeoutMs: this.options.timeoutMs ?? 60_000,
      signal,
    });
    if (!Array.isArray(json.data)) throw new ProviderError('embeddings response has no data', 'openai', 'retryable', status);
    const vectors = [...json.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    if (vectors.length !== texts.length || vectors.some((v) => v.length !== this.dimensions)) {
      throw new ProviderError(`embeddings response has ${vectors.length} vectors of the wrong shape`, 'openai', 'rejected', status);
    }
    return vectors;
  }

  async close(): Promise<void> {}
}
