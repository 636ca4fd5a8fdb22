/** Types that cross the workflow boundary. Pure: safe in the workflow sandbox. */

export const INGEST_STAGES = ['queued', 'parsing', 'chunking', 'embedding', 'indexing', 'ready', 'failed', 'superseded'] as const;
export type IngestStage = (typeof INGEST_STAGES)[number];

export const MEDIA_TYPES = ['application/pdf', 'text/markdown', 'text/html', 'text/plain'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** Identifies one version of one document; every ingest activity takes it. */
export interface VersionRef {
  tenantId: string;
  collection: string;
  documentId: string;
  version: number;
}

export interface ChunkingSettings {
  chunkSizeTokens: number;
  chunkOverlapTokens: number;
}

/** One generation of a collection's index, with the settings its chunks are made with. */
export interface IndexTarget {
  generation: number;
  /** The vector index space its points go to (lib/stores/index-name.ts). */
  indexName: string;
  embeddingModel: string;
  chunking: ChunkingSettings;
  /**
   * The space is shared by every collection generation of the model, so points carry their
   * generation and every filter names it. Unset: a legacy index of the generation's own.
   */
  shared?: boolean;
}

/** Small by design: the bytes travel through the blob store (claim-check), not the workflow history. */
export interface IngestDocumentInput extends VersionRef {
  sha256: string;
  mediaType: MediaType;
  /** Every generation that serves or is being built: an upload during a re-index reaches both. */
  targets: IndexTarget[];
  /** How long a silent activity may run before Temporal retries it elsewhere (worker death). */
  heartbeatTimeoutMs: number;
}

export interface IngestDocumentResult {
  stage: 'ready' | 'superseded' | 'deleted';
  pageCount: number | null;
  chunkCount: number;
  activeVersion: number;
}

export const TASK_QUEUES = {
  /** Workflows and the I/O-bound activities. */
  ingest: 'ingest',
  /** CPU-bound embedding, kept on its own queue so its concurrency matches the model's cores. */
  embed: 'ingest-embed',
} as const;

/** One run per version: a version number is never reused, so neither is the id. */
export function ingestWorkflowId(tenantId: string, documentId: string, version: number): string {
  return `ingest/${tenantId}/${documentId}/v${version}`;
}

/** A deletion is named by the latest version it covers. */
/** A collection's deletion: the nonce tells apart deletions of a name created again since. */
export function deleteCollectionWorkflowId(tenantId: string, collection: string, nonce: string): string {
  return `delete/${tenantId}/collection/${collection}/${nonce}`;
}

export function deleteWorkflowId(tenantId: string, documentId: string, throughVersion: number): string {
  return `delete/${tenantId}/${documentId}/v${throughVersion}`;
}
