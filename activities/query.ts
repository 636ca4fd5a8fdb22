import { ApplicationFailure } from '@temporalio/activity';
import type { Embedder } from '../lib/models/embedder';
import { COLLECTION_NOT_FOUND, type RetrieveInput, type RetrieveResult, type RetrievedChunk } from '../lib/query/types';
import type { MetadataStore } from '../lib/stores/metadata-store';
import type { VectorIndex } from '../lib/stores/vector-index';
import { encodeQuery } from '../lib/text/sparse';
import { indexNameOf } from '../lib/stores/index-name';

export interface QueryDependencies {
  metadata: MetadataStore;
  index: VectorIndex;
  embedder: Embedder;
}

/** Candidates fetched per wanted chunk: hits of superseded versions are dropped after search. */
const OVERFETCH = 3;

export function createQueryActivities({ metadata, index, embedder }: QueryDependencies) {
  return {
    /**
     * Hybrid retrieval: the question embedded and BM25-encoded, both rankings fused with RRF in
     * the index, filtered by tenant, collection and metadata, then collapsed to each document's
     * active version, so a document mid-replacement never answers twice or from a half index.
     */
    async retrieveChunks(input: RetrieveInput): Promise<RetrieveResult> {
      const collection = await metadata.getCollection(input.tenantId, input.collection);
      if (!collection) throw ApplicationFailure.nonRetryable(`no collection ${input.collection}`, COLLECTION_NOT_FOUND);
      const embedStarted = performance.now();
      const [dense] = await embedder.embed([input.question]);
      const searchStarted = performance.now();
      const hits = await index.search(indexNameOf(collection), {
        dense,
        sparse: encodeQuery(input.question),
        filter: { tenantId: input.tenantId, collection: input.collection, metadata: input.filters },
        limit: input.topK * OVERFETCH,
      });
      const active = await metadata.activeVersions(input.tenantId, [...new Set(hits.map((h) => h.payload.document_id))]);
      const chunks: RetrievedChunk[] = hits
        .filter((hit) => active.get(hit.payload.document_id) === hit.payload.version)
        .slice(0, input.topK)
        .map((hit) => ({
          chunkId: hit.id,
          documentId: hit.payload.document_id,
          version: hit.payload.version,
          chunkIndex: hit.payload.chunk_index,
          title: hit.payload.title,
          pageStart: hit.payload.page_start,
          pageEnd: hit.payload.page_end,
          headings: hit.payload.headings,
          metadata: hit.payload.metadata,
          text: hit.payload.text,
          score: hit.score,
        }));
      const finished = performance.now();
      return { chunks, latencyMs: { embed: searchStarted - embedStarted, search: finished - searchStarted } };
    },
  };
}

export type QueryActivities = ReturnType<typeof createQueryActivities>;
