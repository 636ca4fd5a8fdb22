import { ApplicationFailure, Context } from '@temporalio/activity';
import { v5 as uuidV5 } from 'uuid';
import { DocumentErrorCode } from '../lib/errors';
import { isStructured, type Chunk } from '../lib/ingest/chunk';
import type { CpuPool } from '../lib/ingest/cpu-pool';
import { DocumentRejected, type ParsedDocument } from '../lib/ingest/parse';
import type { IndexTarget, MediaType } from '../lib/ingest/types';
import type { Embedder } from '../lib/models/embedder';
import { ProviderError } from '../lib/models/provider-error';
import type { ChunkPayload, IndexPoint, PointFilter, VectorIndex } from '../lib/stores/vector-index';
import { encodeDocument } from '../lib/text/sparse';

/** Steps of turning a parsed document into index points, shared by ingestion and re-indexing. */

/** Fixed namespace for point ids: uuid v5 of where the chunk belongs is stable across retries. */
const POINT_NAMESPACE = '6f1f3c1e-7a55-4d0e-9a53-3a4c3e0b2f11';

/**
 * In a shared space: tenant, collection, generation, document, version, chunk (document ids are
 * unique per tenant, not across tenants). In a legacy index of its own: index, document, version, chunk.
 */
export function pointId(target: IndexTarget, source: Pick<PointSource, 'tenantId' | 'collection' | 'documentId' | 'version'>, chunkIndex: number): string {
  const where = target.shared
    ? `${source.tenantId}/${source.collection}/g${target.generation}/${source.documentId}/${source.version}/${chunkIndex}`
    : `${target.indexName}/${source.documentId}/${source.version}/${chunkIndex}`;
  return uuidV5(where, POINT_NAMESPACE);
}

/** Removes a generation's points: a filtered delete in a shared space, the whole index of a legacy one. */
export async function dropGeneration(index: VectorIndex, target: IndexTarget, scope: { tenantId: string; collection: string }): Promise<void> {
  if (target.shared) await index.deletePoints(target.indexName, { ...scope, generation: target.generation });
  else await index.dropSpace(target.indexName);
}

/** The filter that names a target generation's points: shared spaces hold every generation of the model. */
export function inTarget(target: IndexTarget, filter: PointFilter): PointFilter {
  return target.shared ? { ...filter, generation: target.generation } : filter;
}

/** Chunks with the target generation's settings, counting tokens as its model does, in a worker thread. */
export function chunkText(cpu: CpuPool, parsed: ParsedDocument, mediaType: MediaType, target: IndexTarget, embedder: Embedder): Promise<Chunk[]> {
  return whileHeartbeating(() => asActivityFailure(() => cpu.chunk(parsed, target.chunking, embedder.tokenizer, isStructured(mediaType), Context.current().cancellationSignal)));
}

/** Parses in a worker thread; a rejected document becomes a non-retryable failure with its code. */
export function parseText(cpu: CpuPool, bytes: Uint8Array, mediaType: MediaType): Promise<ParsedDocument> {
  return whileHeartbeating(() => asActivityFailure(() => cpu.parse(bytes, mediaType, Context.current().cancellationSignal)));
}

/** Heartbeats every few seconds while work runs off this thread, so a long task is not taken for a dead worker. */
export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

const HEARTBEAT_EVERY_MS = 3_000;

export async function embedChecked(embedder: Embedder, texts: string[]): Promise<number[][]> {
  const vectors = await asActivityFailure(() => embedder.embed(texts, Context.current().cancellationSignal));
  if (vectors.some((v) => v.length !== embedder.dimensions)) throw ApplicationFailure.nonRetryable('embedding has the wrong dimension', DocumentErrorCode.embeddingDimensionMismatch);
  return vectors;
}

export interface PointSource {
  tenantId: string;
  collection: string;
  documentId: string;
  version: number;
  title: string | null;
  metadata: Record<string, unknown>;
}

export function toPoint(target: IndexTarget, source: PointSource, chunk: Chunk, dense: number[]): IndexPoint {
  const payload: ChunkPayload = {
    tenant_id: source.tenantId,
    collection: source.collection,
    document_id: source.documentId,
    version: source.version,
    chunk_index: chunk.index,
    text: chunk.text,
    ...(target.shared && { generation: target.generation }),
    title: source.title,
    page_start: chunk.pageStart,
    page_end: chunk.pageEnd,
    headings: chunk.headings,
    metadata: source.metadata,
    kind: chunk.kind,
  };
  return { id: pointId(target, source, chunk.index), dense, sparse: encodeDocument(chunk.text), payload };
}

/** Translates our classified errors into the failures Temporal's retry policy acts on. */
export async function asActivityFailure<T>(work: () => Promise<T>): Promise<T> {
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
