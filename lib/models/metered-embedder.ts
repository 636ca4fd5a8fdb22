import type { Metrics } from '../telemetry/metrics';
import { reportEmbeddingCall } from '../telemetry/usage-scope';
import { inGenAiSpan } from '../telemetry/gen-ai-span';
import { DelegatingEmbedder } from './delegating-embedder';
import type { Embedder } from './embedder';

/**
 * An embedder whose every call is measured as a GenAI `embeddings` operation (duration, input
 * tokens) and reported to the usage ledger of the activity making it.
 */
export class MeteredEmbedder extends DelegatingEmbedder {
  constructor(
    inner: Embedder,
    private readonly metrics: Metrics,
    /** USD per million input tokens: 0 for the local model, the provider's price for a remote one. */
    private readonly costPerMillionTokensUsd = 0,
  ) {
    super(inner);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const started = performance.now();
    const call = { operation: 'embeddings', provider: this.provider, requestModel: this.modelId } as const;
    try {
      const inputTokens = texts.reduce((sum, text) => sum + this.inner.countTokens(text), 0);
      const vectors = await inGenAiSpan({ ...call, attributes: { 'rag.embeddings.inputs': texts.length } }, async (end) => {
        const embedded = await this.inner.embed(texts, signal);
        end({ inputTokens });
        return embedded;
      });
      const ms = performance.now() - started;
      this.metrics.recordGenAiCall({ ...call, inputTokens, seconds: ms / 1000 });
      reportEmbeddingCall({ provider: this.provider, model: this.modelId, inputTokens, costUsd: (inputTokens * this.costPerMillionTokensUsd) / 1e6, latencyMs: ms, outcome: 'ok' });
      return vectors;
    } catch (error) {
      const ms = performance.now() - started;
      this.metrics.recordGenAiCall({ ...call, inputTokens: 0, seconds: ms / 1000, errorType: signal?.aborted ? 'cancelled' : ((error as { kind?: string }).kind ?? 'error') });
      reportEmbeddingCall({ provider: this.provider, model: this.modelId, inputTokens: 0, costUsd: 0, latencyMs: ms, outcome: 'failed' });
      throw error;
    }
  }
}
