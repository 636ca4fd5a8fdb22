import { PlatformError } from '../errors';
import type { Embedder } from './embedder';

/**
 * The embedding models this deployment can run, by model id. A collection is embedded with one
 * model per generation; re-indexing onto another model needs both at hand while it runs, and
 * queries must embed with whichever model the live generation was built with.
 */
export class EmbedderRegistry {
  private readonly loaded = new Map<string, Promise<Embedder>>();

  constructor(
    readonly primary: Embedder,
    private readonly loaders: Map<string, () => Promise<Embedder>>,
  ) {
    this.loaded.set(primary.modelId, Promise.resolve(primary));
  }

  available(): string[] {
    return [...new Set([this.primary.modelId, ...this.loaders.keys()])];
  }

  has(modelId: string): boolean {
    return this.loaded.has(modelId) || this.loaders.has(modelId);
  }

  /** Loads a model once, on first use. */
  get(modelId: string): Promise<Embedder> {
    let embedder = this.loaded.get(modelId);
    if (!embedder) {
      const load = this.loaders.get(modelId);
      if (!load) throw new PlatformError('unknown_embedding_model', `this deployment cannot embed with ${modelId}; available: ${this.available().join(', ')}`, 422);
      embedder = load();
      this.loaded.set(modelId, embedder);
      // A failed load is not cached: the next call tries again.
      embedder.catch(() => this.loaded.delete(modelId));
    }
    return embedder;
  }

  async close(): Promise<void> {
    const settled = await Promise.allSettled(this.loaded.values());
    for (const result of settled) if (result.status === 'fulfilled') await result.value.close();
  }
}
