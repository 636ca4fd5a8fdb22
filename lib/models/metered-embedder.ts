import type { Metrics } from '../telemetry/metrics';
import type { Embedder } from './embedder';

/** An embedder whose every call is measured as a GenAI `embeddings` operation (duration, input tokens). */
export class MeteredEmbedder implements Embedder {
  constructor(
    private readonly inner: Embedder,
    private readonly metrics: Metrics,
  ) {}

  get tokenizer() {
    return this.inner.tokenizer;
  }
  get modelId() {
    return this.inner.modelId;
  }
  get provider() {
    return this.inner.provider;
  }
  get dimensions() {
    return this.inner.dimensions;
  }
  get maxInputTokens() {
    return this.inner.maxInputTokens;
  }

  countTokens(text: string): number {
    return this.inner.countTokens(text);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const started = performance.now();
    const call = { operation: 'embeddings', provider: this.provider, requestModel: this.modelId } as const;
    try {
      const vectors = await this.inner.embed(texts, signal);
      const inputTokens = texts.reduce((sum, text) => sum + this.inner.countTokens(text), 0);
      this.metrics.recordGenAiCall({ ...call, inputTokens, seconds: (performance.now() - started) / 1000 });
      return vectors;
    } catch (error) {
      this.metrics.recordGenAiCall({ ...call, inputTokens: 0, seconds: (performance.now() - started) / 1000, errorType: signal?.aborted ? 'cancelled' : ((error as { kind?: string }).kind ?? 'error') });
      throw error;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
