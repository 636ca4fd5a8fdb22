import { DelegatingEmbedder } from '../models/delegating-embedder';
import type { Embedder } from '../models/embedder';
import type { Metrics } from '../telemetry/metrics';
import { textHash, type CacheStore } from './cache-store';
import { withinDeadline } from './deadline';

/**
 * An embedder that asks the cache first, by model and text hash, and embeds only the texts it
 * has not seen: re-uploading a document with a small change, or re-indexing with the same model,
 * embeds only the chunks whose text changed. Sits outside the metered embedder, so the usage
 * ledger and the GenAI metrics count only real model calls. A cache that fails is a miss.
 */
export class CachedEmbedder extends DelegatingEmbedder {
  constructor(
    inner: Embedder,
    private readonly store: CacheStore,
    private readonly options: { deadlineMs: number; metrics?: Metrics; onError?: (error: unknown) => void },
  ) {
    super(inner);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const hashes = texts.map(textHash);
    const cached = await this.lookup([...new Set(hashes)]);
    // Each text not in the cache once, even when a batch repeats it.
    const missing = new Map<string, string>();
    hashes.forEach((hash, i) => cached.has(hash) || missing.has(hash) || missing.set(hash, texts[i] as string));
    const embedded = missing.size ? await this.inner.embed([...missing.values()], signal) : [];
    // Fresh vectors are returned as the model gave them; cached ones as stored (float32).
    const fresh = new Map([...missing.keys()].map((hash, i) => [hash, embedded[i] as number[]]));
    const misses = hashes.filter((hash) => fresh.has(hash)).length;
    if (texts.length > misses) this.options.metrics?.cacheLookups.inc({ cache: 'embedding', outcome: 'hit' }, texts.length - misses);
    if (misses > 0) this.options.metrics?.cacheLookups.inc({ cache: 'embedding', outcome: 'miss' }, misses);
    await this.remember(new Map([...fresh].map(([hash, vector]) => [hash, Float32Array.from(vector)])));
    return hashes.map((hash) => fresh.get(hash) ?? Array.from(cached.get(hash) as Float32Array));
  }

  private async lookup(hashes: string[]): Promise<Map<string, Float32Array>> {
    try {
      const found = await withinDeadline(this.store.getVectors(this.modelId, hashes), this.options.deadlineMs);
      // A vector of another length is not this model's: treat it as absent.
      for (const [hash, vector] of found) if (vector.length !== this.dimensions) found.delete(hash);
      return found;
    } catch (error) {
      this.failed(error);
      return new Map();
    }
  }

  private async remember(vectors: Map<string, Float32Array>): Promise<void> {
    try {
      await withinDeadline(this.store.putVectors(this.modelId, vectors), this.options.deadlineMs);
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    this.options.metrics?.cacheLookups.inc({ cache: 'embedding', outcome: 'error' });
    this.options.onError?.(error);
  }
}
