import { createHash } from 'node:crypto';
import { DelegatingEmbedder } from '../models/delegating-embedder';
import type { Embedder } from '../models/embedder';
import type { Metrics } from '../telemetry/metrics';
import type { CacheStore } from './cache-store';
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
    const missing = [...new Set(hashes.filter((hash) => !cached.has(hash)))];
    const firstText = new Map<string, string>();
    hashes.forEach((hash, i) => firstText.has(hash) || firstText.set(hash, texts[i] as string));
    const embedded = missing.length ? await this.inner.embed(missing.map((hash) => firstText.get(hash) as string), signal) : [];
    const fresh = new Map(missing.map((hash, i) => [hash, Float32Array.from(embedded[i] as number[])]));
    const outcome = (n: number, label: string) => n && this.options.metrics?.cacheLookups.inc({ cache: 'embedding', outcome: label }, n);
    outcome(texts.length - hashes.filter((hash) => fresh.has(hash)).length, 'hit');
    outcome(hashes.filter((hash) => fresh.has(hash)).length, 'miss');
    await this.remember(fresh);
    // Fresh vectors are returned as the model gave them; cached ones as stored (float32).
    const byHash = new Map<string, number[]>(missing.map((hash, i) => [hash, embedded[i] as number[]]));
    return hashes.map((hash) => byHash.get(hash) ?? Array.from(cached.get(hash) as Float32Array));
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

/** The cache's key for a text: what the model reads, byte for byte. */
export const textHash = (text: string): string => createHash('sha256').update(text).digest('base64url');
