import type { Embedder } from './embedder';

/** An embedder that wraps another: everything but `embed` is the inner one's. Subclasses decorate `embed`. */
export abstract class DelegatingEmbedder implements Embedder {
  constructor(protected readonly inner: Embedder) {}

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

  abstract embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;

  close(): Promise<void> {
    return this.inner.close();
  }
}
