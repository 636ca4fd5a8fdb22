import { ApplicationFailure, Context } from '@temporalio/activity';
import { v5 as uuidV5 } from 'uuid';
import { DocumentErrorCode } from '../lib/errors';
import { isStructured, type Chunk } from '../lib/ingest/chunk';
import type { CpuPool } from '../lib/ingest/cpu-pool';
import { DocumentRejected, type ParsedDocument } from '../lib/ingest/parse';
import type { IndexTarget, MediaType } from '../lib/ingest/types';
import type { Embedder } from '../lib/models/embedder';
import { ProviderError } from '../lib/models/provider-error';
import type { ChunkPayload, IndexPoint } from '../lib/stores/vector-index';
import { encodeDocument } from '../lib/text/sparse';

/** Steps of turning a parsed document into index points, shared by ingestion and re-indexing. */

/** Fixed namespace for point ids: uuid v5 of (index, document, version, chunk) is stable across retries. */
const POINT_NAMESPACE = '6f1f3c1e-7a55-4d0e-9a53-3a4c3e0b2f11';

export function pointId(indexName: string, documentId: string, version: number, chunkIndex: number): string {
  return uuidV5(`${indexName}/${documentId}/${version}/${chunkIndex}`, POINT_NAMESPACE);
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
    title: source.title,
    page_start: chunk.pageStart,
    page_end: chunk.pageEnd,
    headings: chunk.headings,
    metadata: source.metadata,
    kind: chunk.kind,
  };
  return { id: pointId(target.indexName, source.documentId, source.version, chunk.index), dense, sparse: encodeDocument(chunk.text), payload };
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
