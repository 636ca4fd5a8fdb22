import { activityInfo, ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import { DOCUMENT_DELETED } from '../lib/errors';
import type { Chunk } from '../lib/ingest/chunk';
import type { CpuPool } from '../lib/ingest/cpu-pool';
import type { ParsedDocument } from '../lib/ingest/parse';
import type { IndexTarget, IngestDocumentInput, IngestStage, VersionRef } from '../lib/ingest/types';
import type { Embedder } from '../lib/models/embedder';
import type { EmbedderRegistry } from '../lib/models/embedder-registry';
import { workPrefix, type BlobStore } from '../lib/stores/blob-store';
import { targetOf, type GenerationStore } from '../lib/stores/generation-store';
import type { MetadataStore } from '../lib/stores/metadata-store';
import type { Metrics } from '../lib/telemetry/metrics';
import type { IndexPoint, VectorIndex } from '../lib/stores/vector-index';
import { chunkText, embedChecked, inTarget, parseText, toPoint } from './indexing';
import type { UsageRecorder } from './usage';

export interface IngestDependencies {
  metadata: MetadataStore;
  generations: GenerationStore;
  blobs: BlobStore;
  index: VectorIndex;
  embedders: EmbedderRegistry;
  embedBatchSize: number;
  indexBatchSize?: number;
  cpu: CpuPool;
  /** Ingestion throughput: pages parsed, chunks indexed, documents finished. */
  metrics?: Metrics;
  /** Embedding calls go into the usage ledger, charged to the tenant and collection. */
  usage?: UsageRecorder;
}


/** Chunks and vectors differ per generation (other chunking, other model); the parse is shared. */
function targetPrefix(ref: VersionRef, target: IndexTarget): string {
  return `${workPrefix(ref)}g${target.generation}/`;
}

/** Activation found generations that do not hold this version yet: index into them, then try again. */
export interface ActivationResult {
  activeVersion: number | null;
  superseded: boolean;
  missing: IndexTarget[];
}
export interface EmbedResult {
  batches: number;
  /** Batches found done from an earlier attempt (a killed worker's progress), not embedded again. */
  resumedBatches: number;
}

export function createIngestActivities(deps: IngestDependencies) {
  const { metadata, generations, blobs, index, embedders } = deps;
  const indexBatchSize = deps.indexBatchSize ?? 64;
  // Runs started before generations named no model: they embed with the configured one.
  const embedderFor = (target: IndexTarget): Promise<Embedder> => (target.embeddingModel ? embedders.get(target.embeddingModel) : Promise.resolve(embedders.primary));
  // The live generation comes first in a run's targets (runs from before generations have one); the version's counts describe it.
  const isPrimary = (input: IngestDocumentInput, target: IndexTarget) => target.generation === (input.targets ?? [target])[0]?.generation;

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
      const parsed = await parseText(deps.cpu, bytes, input.mediaType);
      await blobs.putJson(`${workPrefix(input)}parsed.json`, parsed);
      if (parsed.pageCount !== null) await metadata.setStage(input, 'parsing', { pageCount: parsed.pageCount });
      deps.metrics?.ingestedPages.inc(parsed.pageCount ?? 1);
      return { pageCount: parsed.pageCount, characters: parsed.text.length };
    },

    async chunkDocument(input: IngestDocumentInput, target: IndexTarget): Promise<{ chunkCount: number }> {
      await enterStage(input, 'chunking');
      const [parsed, embedder] = await Promise.all([blobs.getJson<ParsedDocument>(`${workPrefix(input)}parsed.json`), embedderFor(target)]);
      const chunks = await chunkText(deps.cpu, parsed, input.mediaType, target, embedder);
      await blobs.putJson(`${targetPrefix(input, target)}chunks.json`, chunks);
      if (isPrimary(input, target)) await metadata.setStage(input, 'chunking', { chunkCount: chunks.length });
      return { chunkCount: chunks.length };
    },

    /**
     * Embeds in batches, writing each batch's vectors before heartbeating past it. A retry after
     * a crash resumes at the heartbeat cursor and skips any batch already on disk.
     */
    async embedChunks(input: IngestDocumentInput, target: IndexTarget): Promise<EmbedResult> {
      const primary = isPrimary(input, target);
      await enterStage(input, 'embedding', primary ? { chunksEmbedded: 0 } : {});
      const prefix = targetPrefix(input, target);
      const [chunks, embedder] = await Promise.all([blobs.getJson<Chunk[]>(`${prefix}chunks.json`), embedderFor(target)]);
      const batchCount = Math.ceil(chunks.length / deps.embedBatchSize);
      const cursor = (activityInfo().heartbeatDetails as { nextBatch?: number } | undefined)?.nextBatch ?? 0;
      let resumedBatches = 0;
      for (let batch = 0; batch < batchCount; batch++) {
        const key = `${prefix}vectors/${batch}.f32`;
        if (batch < cursor || (await blobs.exists(key))) {
          resumedBatches++;
          continue;
        }
        const texts = chunks.slice(batch * deps.embedBatchSize, (batch + 1) * deps.embedBatchSize).map((c) => c.text);
        const embed = () => embedChecked(embedder, texts);
        const vectors = deps.usage ? await deps.usage.embeddingsOf({ tenantId: input.tenantId, collection: input.collection, keyId: null, requestId: null }, 'ingest', embed) : await embed();
        await blobs.put(key, new Uint8Array(Float32Array.from(vectors.flat()).buffer));
        heartbeat({ nextBatch: batch + 1 });
        if (primary) await metadata.setStage(input, 'embedding', { chunksEmbedded: Math.min(chunks.length, (batch + 1) * deps.embedBatchSize) });
      }
      if (resumedBatches > 0) log.info('resumed embedding', { documentId: input.documentId, resumedBatches, batchCount });
      return { batches: batchCount, resumedBatches };
    },

    /**
     * Upserts with deterministic ids, proves the index holds exactly one point per chunk, then
     * records that this generation holds the version.
     */
    async indexChunks(input: IngestDocumentInput, target: IndexTarget): Promise<{ points: number }> {
      await enterStage(input, 'indexing');
      const prefix = targetPrefix(input, target);
      const [chunks, version, embedder] = await Promise.all([
        blobs.getJson<Chunk[]>(`${prefix}chunks.json`),
        metadata.getDocument(input.tenantId, input.documentId).then((doc) => doc?.versions.find((v) => v.version === input.version)),
        embedderFor(target),
      ]);
      if (!version) throw ApplicationFailure.nonRetryable(`document ${input.documentId} was deleted during ingestion`, DOCUMENT_DELETED);
      // A re-index cancelled since this run was routed has dropped its index: do not bring it back.
      const generation = await generations.get(input.tenantId, input.collection, target.generation);
      if (generation && !['building', 'live', 'retained'].includes(generation.state)) return { points: 0 };
      await index.ensureSpace(target.indexName, { dimensions: embedder.dimensions });
      const cursor = (activityInfo().heartbeatDetails as { nextChunk?: number } | undefined)?.nextChunk ?? 0;
      const vectorsOf = await vectorReader(blobs, prefix, deps.embedBatchSize, embedder.dimensions);
      const source = { ...input, title: version.title ?? version.filename, metadata: version.metadata };
      for (let start = cursor - (cursor % indexBatchSize); start < chunks.length; start += indexBatchSize) {
        const batch = chunks.slice(start, start + indexBatchSize);
        const points: IndexPoint[] = [];
        for (const chunk of batch) points.push(toPoint(target, source, chunk, await vectorsOf(chunk.index)));
        await index.upsert(target.indexName, points);
        heartbeat({ nextChunk: start + batch.length });
      }
      const points = await index.count(target.indexName, inTarget(target, { tenantId: input.tenantId, collection: input.collection, documentId: input.documentId, version: input.version }));
      if (points !== chunks.length) {
        throw ApplicationFailure.retryable(`index holds ${points} points for ${chunks.length} chunks`, 'index_count_mismatch');
      }
      const recorded = await generations.recordIndexed({ ...input, generation: target.generation, chunkCount: chunks.length });
      if (!recorded) throw ApplicationFailure.nonRetryable(`document ${input.documentId} was deleted during ingestion`, DOCUMENT_DELETED);
      if (isPrimary(input, target)) deps.metrics?.ingestedChunks.inc(chunks.length);
      return { points };
    },

    /**
     * Switches the document to this version, then removes older versions' points from every
     * generation that still has an index. The new points exist before the switch and the old ones
     * are removed after it, so the document is never without a searchable version.
     */
    async activateVersion(input: IngestDocumentInput): Promise<ActivationResult> {
      const activation = await metadata.activateVersion(input);
      if (!activation) throw ApplicationFailure.nonRetryable(`document ${input.documentId} was deleted during ingestion`, DOCUMENT_DELETED);
      if (activation.missingGenerations.length > 0) {
        const all = await generations.list(input.tenantId, input.collection);
        const missing = all.filter((g) => activation.missingGenerations.includes(g.generation)).map(targetOf);
        return { activeVersion: activation.activeVersion, superseded: false, missing };
      }
      const docFilter = { tenantId: input.tenantId, collection: input.collection, documentId: input.documentId };
      for (const target of await generations.keptGenerations(input.tenantId, input.collection)) {
        await index.deletePoints(target.indexName, inTarget(target, { ...docFilter, versionBelow: activation.activeVersion as number }));
        if (activation.superseded) await index.deletePoints(target.indexName, inTarget(target, { ...docFilter, version: input.version }));
      }
      await blobs.remove(workPrefix(input));
      deps.metrics?.ingestedDocuments.inc({ outcome: activation.superseded ? 'superseded' : 'ready' });
      return { activeVersion: activation.activeVersion, superseded: activation.superseded, missing: [] };
    },

    async markFailed(input: IngestDocumentInput, code: string, message: string): Promise<void> {
      await metadata.markFailed(input, code, message);
      await blobs.remove(workPrefix(input));
      deps.metrics?.ingestedDocuments.inc({ outcome: 'failed' });
    },

    /** After a deletion or cancellation: this version's points, wherever they went, and its scratch files go. */
    async discardVersion(input: IngestDocumentInput): Promise<void> {
      const kept = await generations.keptGenerations(input.tenantId, input.collection);
      const version = { tenantId: input.tenantId, collection: input.collection, documentId: input.documentId, version: input.version };
      for (const target of [...(input.targets ?? []), ...kept]) await index.deletePoints(target.indexName, inTarget(target, version));
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
