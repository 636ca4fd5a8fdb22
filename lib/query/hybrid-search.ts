import type { Embedder } from '../models/embedder';
import type { MetadataStore } from '../stores/metadata-store';
import type { PointFilter, VectorIndex } from '../stores/vector-index';
import { encodeQuery } from '../text/sparse';
import type { RetrieveResult, RetrievedChunk } from './types';
import type { IndexTarget } from '../ingest/types';

/** Candidates fetched per wanted chunk: hits of superseded versions are dropped after search. */
const OVERFETCH = 3;

export interface GenerationSearch {
  /** The generation to read, as Postgres records it: where its points are, and whether to filter by it. */
  target: IndexTarget;
  /** The model that generation was embedded with. */
  embedder: Embedder;
  tenantId: string;
  collection: string;
  question: string;
  topK: number;
  filters?: PointFilter['metadata'];
}

/**
 * Hybrid retrieval over one generation: the question embedded and BM25-encoded, both rankings
 * fused with RRF in the index, filtered by tenant, collection and metadata, then collapsed to each
 * document's active version, so a document mid-replacement never answers twice or from a half index.
 */
export async function searchGeneration(stores: { index: VectorIndex; metadata: MetadataStore }, search: GenerationSearch): Promise<RetrieveResult> {
  const embedStarted = performance.now();
  const [dense] = await search.embedder.embed([search.question]);
  const searchStarted = performance.now();
  const { target } = search;
  const hits = await stores.index.search(target.indexName, {
    dense,
    sparse: encodeQuery(search.question),
    filter: { tenantId: search.tenantId, collection: search.collection, ...(target.shared && { generation: target.generation }), metadata: search.filters },
    limit: search.topK * OVERFETCH,
  });
  const active = await stores.metadata.activeVersions(search.tenantId, [...new Set(hits.map((h) => h.payload.document_id))]);
  const chunks: RetrievedChunk[] = hits
    .filter((hit) => active.get(hit.payload.document_id) === hit.payload.version)
    .slice(0, search.topK)
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
      kind: hit.payload.kind ?? 'text',
      score: hit.score,
    }));
  const finished = performance.now();
  return { chunks, latencyMs: { embed: searchStarted - embedStarted, search: finished - searchStarted } };
}
