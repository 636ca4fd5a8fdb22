import { ApplicationFailure } from '@temporalio/activity';
import type { EmbedderRegistry } from '../lib/models/embedder-registry';
import { searchGeneration } from '../lib/query/hybrid-search';
import { COLLECTION_NOT_FOUND, type RetrieveInput, type RetrieveResult } from '../lib/query/types';
import type { GenerationStore } from '../lib/stores/generation-store';
import { aliasNameOf, generationOfIndex, indexNameOf } from '../lib/stores/index-name';
import type { MetadataStore } from '../lib/stores/metadata-store';
import type { VectorIndex } from '../lib/stores/vector-index';

export interface QueryDependencies {
  metadata: MetadataStore;
  generations: GenerationStore;
  index: VectorIndex;
  embedders: EmbedderRegistry;
}

export function createQueryActivities({ metadata, generations, index, embedders }: QueryDependencies) {
  // A generation's model never changes, so it is looked up once per generation.
  const modelOfIndex = new Map<string, string>();

  /**
   * Reads the collection's alias once and takes both the index and its embedding model from the
   * generation it names, so a swap between the two lookups cannot pair a model with another
   * model's vectors.
   */
  async function liveGeneration(tenantId: string, name: string): Promise<{ indexName: string; embeddingModel: string }> {
    const collection = await metadata.getCollection(tenantId, name);
    if (!collection) throw ApplicationFailure.nonRetryable(`no collection ${name}`, COLLECTION_NOT_FOUND);
    const indexName = (await index.resolveAlias(aliasNameOf(collection))) ?? indexNameOf(collection);
    let embeddingModel = modelOfIndex.get(indexName);
    if (!embeddingModel) {
      const generation = await generations.get(tenantId, name, generationOfIndex(indexName));
      embeddingModel = generation?.embeddingModel ?? collection.embeddingModel;
      if (generation) modelOfIndex.set(indexName, embeddingModel);
    }
    return { indexName, embeddingModel };
  }

  return {
    async retrieveChunks(input: RetrieveInput): Promise<RetrieveResult> {
      const live = await liveGeneration(input.tenantId, input.collection);
      return searchGeneration(
        { index, metadata },
        { ...live, embedder: await embedders.get(live.embeddingModel), tenantId: input.tenantId, collection: input.collection, question: input.question, topK: input.topK, filters: input.filters },
      );
    },
  };
}

export type QueryActivities = ReturnType<typeof createQueryActivities>;
