import { ApplicationFailure } from '@temporalio/activity';
import type { EmbedderRegistry } from '../lib/models/embedder-registry';
import { searchGeneration } from '../lib/query/hybrid-search';
import { COLLECTION_NOT_FOUND, type RetrieveInput, type RetrieveResult } from '../lib/query/types';
import { targetOf, type GenerationStore } from '../lib/stores/generation-store';
import type { IndexTarget } from '../lib/ingest/types';
import type { MetadataStore } from '../lib/stores/metadata-store';
import type { VectorIndex } from '../lib/stores/vector-index';
import type { UsageRecorder } from './usage';

export interface QueryDependencies {
  metadata: MetadataStore;
  generations: GenerationStore;
  index: VectorIndex;
  embedders: EmbedderRegistry;
  /** The question's embedding goes into the usage ledger. */
  usage?: UsageRecorder;
}

export function createQueryActivities({ metadata, generations, index, embedders, usage }: QueryDependencies) {
  /**
   * The generation Postgres says serves the collection, in one read: where its points are and
   * the model they were embedded with, so a swap cannot pair a model with another's vectors.
   */
  async function liveGeneration(tenantId: string, name: string): Promise<IndexTarget> {
    const live = await generations.live(tenantId, name);
    if (!live) throw ApplicationFailure.nonRetryable(`no collection ${name}`, COLLECTION_NOT_FOUND);
    return targetOf(live);
  }

  return {
    async retrieveChunks(input: RetrieveInput): Promise<RetrieveResult> {
      const target = await liveGeneration(input.tenantId, input.collection);
      const search = async () =>
        searchGeneration(
          { index, metadata },
          { target, embedder: await embedders.get(target.embeddingModel), tenantId: input.tenantId, collection: input.collection, question: input.question, topK: input.topK, filters: input.filters },
        );
      if (!usage) return search();
      const context = { tenantId: input.tenantId, collection: input.collection, keyId: input.caller?.keyId ?? null, requestId: input.caller?.requestId ?? null, traceId: input.caller?.traceId ?? null };
      return usage.embeddingsOf(context, 'query', search);
    },
  };
}

export type QueryActivities = ReturnType<typeof createQueryActivities>;
