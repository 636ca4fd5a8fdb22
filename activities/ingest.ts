import { activityInfo, ApplicationFailure, Context, heartbeat, log } from '@temporalio/activity';
import { v5 as uuidV5 } from 'uuid';
import { DOCUMENT_DELETED, DocumentErrorCode } from '../lib/errors';
import { chunkDocument, type Chunk } from '../lib/ingest/chunk';
import { DocumentRejected, parseDocument, type ParsedDocument } from '../lib/ingest/parse';
import type { IngestDocumentInput, IngestStage, VersionRef } from '../lib/ingest/types';
import type { Embedder } from '../lib/models/embedder';
import { ProviderError } from '../lib/models/provider-error';
import type { BlobStore } from '../lib/stores/blob-store';
import type { MetadataStore } from '../lib/stores/metadata-store';
import type { ChunkPayload, IndexPoint, VectorIndex } from '../lib/stores/vector-index';
import { encodeDocument } from '../lib/text/sparse';

export interface IngestDependencies {
  metadata: MetadataStore;
  blobs: BlobStore;
  index: VectorIndex;
  embedder: Embedder;
  embedBatchSize: number;
  indexBatchSize?: number;
}

/** Fixed namespace for point ids: uuid v5 of (index, document, version, chunk) is stable across retries. */
const POINT_NAMESPACE = '6f1f3c1e-7a55-4d0e-9a53-3a4c3e0b2f11';

export function pointId(indexName: string, documentId: string, version: number, chunkIndex: number): string {
  return uuidV5(`${indexName}/${documentId}/${version}/${chunkIndex}`, POINT_NAMESPACE);
}

/** Per-version scratch space for the claim-check artifacts. */
function workPrefix(ref: VersionRef): string {
  return `work/${ref.tenantId}/${ref.documentId}/v${ref.version}/`;
}

export interface EmbedResult {
  batches: number;
  /** Batches found done from an earlier attempt (a killed worker's progress), not embedded again. */
  resumedBatches: number;
}

export function createIngestActivities(deps: IngestDependencies) {
  const { metadata, blobs, index, embedder } = deps;
  const indexBatchSize = deps.indexBatchSize ?? 64;

  /** Records the stage; a version that vanished means its document was deleted: stop for good. */
  async function enterStage(ref: VersionRef, stage: IngestStage, counts?: Parameters<MetadataStore['setStage']>[2]): Promise<void> {
    if (!(await metadata.setStage(ref, stage, counts))) {
      throw ApplicationFailure.nonRetryable(`document ${ref.documentId} v${ref.version} was deleted during ingestion`, DOCUMENT_DELETED);
    }
  }

  return {
    async parseDocument(input: IngestDocumentInput): Promise<{ pageCount: number | null; characters: number }> {
      await enterStage(input, 'parsing');
      const bytes = await blobs.get(blobs.rawKey(input.sha256));
      const parsed = await asActivityFailure(() => parseDocument(bytes, input.mediaType, (page) => heartbeat({ page })));
      await blobs.putJson(`${workPrefix(input)}parsed.json`, parsed);
      if (parsed.pageCount !== null) await metadata.setStage(input, 'parsing', { pageCount: parsed.pageCount });
      return { pageCount: parsed.pageCount, characters: parsed.text.length };
    },

    async chunkDocument(input: IngestDocumentInput): Promise<{ chunkCount: number }> {
      await enterStage(input, 'chunking');
      const parsed = await blobs.getJson<ParsedDocument>(`${workPrefix(input)}parsed.json`);
      const structured = input.mediaType === 'text/markdown' || input.mediaType === 'text/html';
      const chunks = await chunkDocument(parsed, input.chunking, (text) => embedder.countTokens(text), structured);
      await blobs.putJson(`${workPrefix(input)}chunks.json`, chunks);
      await metadata.setStage(input, 'chunking', { chunkCount: chunks.length });
      return { chunkCount: chunks.length };
    },

    /**
     * Embeds in batches, writing each batch's vectors before heartbeating past it. A retry after
     * a crash resumes at the heartbeat cursor and skips any batch already on disk.
     */
    async embedChunks(input: IngestDocumentInput): Promise<EmbedResult> {
      await enterStage(input, 'embedding', { chunksEmbedded: 0 });
      const chunks = await blobs.getJson<Chunk[]>(`${workPrefix(input)}chunks.json`);
      const batchCount = Math.ceil(chunks.length / deps.embedBatchSize);
      const cursor = (activityInfo().heartbeatDetails as { nextBatch?: number } | undefined)?.nextBatch ?? 0;
      let resumedBatches = 0;
      for (let batch = 0; batch < batchCount; batch++) {
        const key = `${workPrefix(input)}vectors/${batch}.f32`;
        if (batch < cursor || (await blobs.exists(key))) {
          resumedBatches++;
          continue;
        }
        const texts = chunks.slice(batch * deps.embedBatchSize, (batch + 1) * deps.embedBatchSize).map((c) => c.text);
        const vectors = await asActivityFailure(() => embedder.embed(texts, Context.current().cancellationSignal));
        if (vectors.some((v) => v.length !== embedder.dimensions)) throw ApplicationFailure.nonRetryable('embedding has the wrong dimension', DocumentErrorCode.embeddingDimensionMismatch);
        await blobs.put(key, new Uint8Array(Float32Array.from(vectors.flat()).buffer));
        heartbeat({ nextBatch: batch + 1 });
        await metadata.setStage(input, 'embedding', { chunksEmbedded: Math.min(chunks.length, (batch + 1) * deps.embedBatchSize) });
      }
      if (resumedBatches > 0) log.info('resumed embedding', { documentId: input.documentId, resumedBatches, batchCount });
      return { batches: batchCount, resumedBatches };
    },

    /** Upserts with deterministic ids, then proves the index holds exactly one point per chunk. */
    async indexChunks(input: IngestDocumentInput): Promise<{ points: number }> {
      await enterStage(input, 'indexing');
      const [chunks, version] = await Promise.all([
        blobs.getJson<Chunk[]>(`${workPrefix(input)}chunks.json`),
        metadata.getDocument(input.tenantId, input.documentId).then((doc) => doc?.versions.find((v) => v.version === input.version)),
      ]);
      if (!version) throw ApplicationFailure.nonRetryable(`document ${input.documentId} was deleted during ingestion`, DOCUMENT_DELETED);
      await index.ensureIndex(input.indexName, { dimensions: embedder.dimensions });
      const cursor = (activityInfo().heartbeatDetails as { nextChunk?: number } | undefined)?.nextChunk ?? 0;
      const vectorsOf = await vectorReader(blobs, workPrefix(input), deps.embedBatchSize, embedder.dimensions);
      for (let start = cursor - (cursor % indexBatchSize); start < chunks.length; start += indexBatchSize) {
        const batch = chunks.slice(start, start + indexBatchSize);
        const points: IndexPoint[] = [];
        for (const chunk of batch) {
          const payload: ChunkPayload = {
            tenant_id: input.tenantId,
            collection: input.collection,
            document_id: input.documentId,
            version: input.version,
            chunk_index: chunk.index,
            text: chunk.text,
            title: version.title ?? version.filename,
            page_start: chunk.pageStart,
            page_end: chunk.pageEnd,
            headings: chunk.headings,
            metadata: version.metadata,
          };
          points.push({ id: pointId(input.indexName, input.documentId, input.version, chunk.index), dense: await vectorsOf(chunk.index), sparse: encodeDocument(chunk.text), payload });
        }
        await index.upsert(input.indexName, points);
        heartbeat({ nextChunk: start + batch.length });
      }
      const points = await index.count(input.indexName, { tenantId: input.tenantId, documentId: input.documentId, version: input.version });
      if (points !== chunks.length) {
        throw ApplicationFailure.retryable(`index holds ${points} points for ${chunks.length} chunks`, 'index_count_mismatch');
      }
      return { points };
    },

    /**
     * Switches the document to this version, then removes older versions' points. The new points
     * exist before the switch and the old ones are removed after it, so the document is never
     * without a searchable version.
     */
    async activateVersion(input: IngestDocumentInput): Promise<{ activeVersion: number; superseded: boolean }> {
      const activation = await metadata.activateVersion(input);
      if (!activation) throw ApplicationFailure.nonRetryable(`document ${input.documentId} was deleted during ingestion`, DOCUMENT_DELETED);
      const docFilter = { tenantId: input.tenantId, collection: input.collection, documentId: input.documentId };
      await index.deletePoints(input.indexName, { ...docFilter, versionBelow: activation.activeVersion });
      if (activation.superseded) await index.deletePoints(input.indexName, { ...docFilter, version: input.version });
      await blobs.remove(workPrefix(input));
      return activation;
    },

    async markFailed(input: IngestDocumentInput, code: string, message: string): Promise<void> {
      await metadata.markFailed(input, code, message);
      await blobs.remove(workPrefix(input));
    },

    /** After a deletion or cancellation: this version's points and scratch files go. */
    async discardVersion(input: IngestDocumentInput): Promise<void> {
      await index.deletePoints(input.indexName, { tenantId: input.tenantId, documentId: input.documentId, version: input.version });
      await blobs.remove(workPrefix(input));
    },
  };
}

export type IngestActivities = ReturnType<typeof createIngestActivities>;

/** Reads vectors batch by batch from the files embedChunks wrote, keeping one batch in memory. */
async function vectorReader(blobs: BlobStore, prefix: string, batchSize: number, dimensions: number) {
  let loaded: { batch: number; data: Float32Array } | undefined;
  return async (chunkIndex: number): Promise<number[]> => {
    const batch = Math.floor(chunkIndex / batchSize);
    if (loaded?.batch !== batch) {
      const bytes = await blobs.get(`${prefix}vectors/${batch}.f32`);
      loaded = { batch, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
    }
    const offset = (chunkIndex % batchSize) * dimensions;
    return Array.from(loaded.data.subarray(offset, offset + dimensions));
  };
}

/** Translates our classified errors into the failures Temporal's retry policy acts on. */
async function asActivityFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DocumentRejected) throw ApplicationFailure.nonRetryable(error.message, error.code);
    if (ProviderError.isInstance(error)) {
      // Each kind its own type, so a workflow can route context-window and policy errors elsewhere.
      if (!error.retryable) throw ApplicationFailure.nonRetryable(error.message, `provider_${error.kind}`, { status: error.status });
      throw ApplicationFailure.create({ message: error.message, type: 'provider_unavailable', nextRetryDelay: error.retryAfterMs });
    }
    throw error;
  }
}
