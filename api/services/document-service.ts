import { createHash } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DocumentErrorCode, PlatformError } from '../../lib/errors';
import { defaultChunking } from '../../lib/ingest/chunk';
import { detectMediaType } from '../../lib/ingest/media-type';
import { DocumentRejected, decodeUtf8 } from '../../lib/ingest/parse';
import { ingestWorkflowId, TASK_QUEUES, type IngestDocumentInput } from '../../lib/ingest/types';
import type { Platform } from '../../lib/platform';
import { runSearchAttributes } from '../../lib/search-attributes';
import { aliasNameOf, indexNameOf } from '../../lib/stores/index-name';
import type { CollectionRecord, DocumentRecord } from '../../lib/stores/metadata-store';
import type { ingestDocumentWorkflow } from '../../workflows';

export interface UploadRequest {
  tenantId: string;
  collection: string;
  bytes: Uint8Array;
  declaredContentType?: string;
  filename?: string;
  title?: string;
  metadata: Record<string, unknown>;
  documentId?: string;
}

export interface UploadAccepted {
  documentId: string;
  collection: string;
  version: number;
  workflowId: string;
  stage: string;
  duplicate: boolean;
  started: boolean;
}

/** Same bytes into the same collection without an explicit id land on the same document. */
function derivedDocumentId(collection: string, sha256: string): string {
  return `doc_${createHash('sha256').update(`${collection}\n${sha256}`).digest('hex').slice(0, 24)}`;
}

export class DocumentService {
  constructor(
    private readonly platform: Platform,
    private readonly temporal: Client,
  ) {}

  /**
   * Validates what can be known without parsing, stores the bytes content-addressed, allocates
   * the version and starts (or finds) the ingestion run. Problems inside the document itself
   * (a corrupt PDF) surface later as a `failed` stage with a code.
   */
  async upload(request: UploadRequest): Promise<UploadAccepted> {
    const { bytes } = request;
    if (bytes.byteLength === 0) throw new PlatformError(DocumentErrorCode.emptyDocument, 'the document is empty', 422);
    const mediaType = await detectMediaType(bytes, request.declaredContentType, request.filename);
    if (mediaType !== 'application/pdf') assertReadableText(bytes);

    const { config, metadata, blobs, embedder } = this.platform;
    const collection = await metadata.ensureCollection({
      tenantId: request.tenantId,
      name: request.collection,
      embeddingModel: embedder.modelId,
      dimensions: embedder.dimensions,
      ...defaultChunking(config, embedder.maxInputTokens),
      generation: 1,
    });
    const targets = await this.platform.generations.writeTargets(request.tenantId, collection.name);
    for (const target of targets) {
      if (!this.platform.embedders.has(target.embeddingModel)) {
        throw new PlatformError('embedding_model_unavailable', `collection ${collection.name} is indexed with ${target.embeddingModel}, which this deployment cannot run`, 409);
      }
    }
    await this.ensureLiveAlias(collection);
    const { sha256 } = await blobs.putRaw(bytes);
    const documentId = request.documentId ?? derivedDocumentId(collection.name, sha256);
    const workflowId = ingestWorkflowId(request.tenantId, documentId, sha256);
    const registered = await metadata.registerUpload({
      tenantId: request.tenantId,
      collection,
      documentId,
      sha256,
      sizeBytes: bytes.byteLength,
      mediaType,
      filename: request.filename ?? null,
      title: request.title ?? null,
      metadata: request.metadata,
      workflowId,
    });
    if (registered.startRun) {
      await this.startIngestion(registered.workflowId, collection, {
        tenantId: request.tenantId,
        collection: collection.name,
        documentId,
        version: registered.version,
        sha256,
        mediaType,
        targets,
        heartbeatTimeoutMs: config.ACTIVITY_HEARTBEAT_TIMEOUT_MS,
      });
    }
    return {
      documentId,
      collection: collection.name,
      version: registered.version,
      workflowId: registered.workflowId,
      stage: registered.stage,
      duplicate: registered.duplicate,
      started: registered.startRun,
    };
  }

  async get(tenantId: string, documentId: string): Promise<DocumentRecord> {
    const doc = await this.platform.metadata.getDocument(tenantId, documentId);
    if (!doc) throw new PlatformError('document_not_found', `no document ${documentId}`, 404);
    return doc;
  }

  async list(tenantId: string, collection: string, options: { limit: number; after?: string }): Promise<DocumentRecord[]> {
    if (!(await this.platform.metadata.getCollection(tenantId, collection))) {
      throw new PlatformError('collection_not_found', `no collection ${collection}`, 404);
    }
    return this.platform.metadata.listDocuments(tenantId, collection, options);
  }

  /**
   * Removes the metadata first (so nothing new can activate), cancels runs still in flight, then
   * deletes every point of the document and the raw bytes no other version shares.
   */
  async delete(tenantId: string, documentId: string): Promise<DocumentRecord> {
    const { metadata, index, blobs } = this.platform;
    const doc = await metadata.deleteDocument(tenantId, documentId);
    if (!doc) throw new PlatformError('document_not_found', `no document ${documentId}`, 404);
    const running = doc.versions.filter((v) => !['ready', 'failed', 'superseded'].includes(v.stage));
    await Promise.all(running.map((v) => this.temporal.workflow.getHandle(v.workflowId).cancel().catch(ignoreNotFound)));
    // Every generation that still has an index: one being built, the live one, those kept for rollback.
    for (const target of await this.platform.generations.keptGenerations(tenantId, doc.collection)) {
      await index.deletePoints(target.indexName, { tenantId, collection: doc.collection, documentId });
    }
    for (const sha256 of new Set(doc.versions.map((v) => v.sha256))) {
      if (!(await metadata.isBlobReferenced(sha256))) await blobs.remove(blobs.rawKey(sha256));
    }
    return doc;
  }

  /** A new collection gets its first generation's index and the alias queries read through. */
  private async ensureLiveAlias(collection: CollectionRecord): Promise<void> {
    const { index } = this.platform;
    if (await index.resolveAlias(aliasNameOf(collection))) return;
    await index.ensureIndex(indexNameOf(collection), { dimensions: collection.dimensions });
    await index.setAlias(aliasNameOf(collection), indexNameOf(collection));
  }

  private async startIngestion(workflowId: string, collection: CollectionRecord, input: IngestDocumentInput): Promise<void> {
    const searchable = this.platform.config.TEMPORAL_SEARCH_ATTRIBUTES === 'on';
    try {
      await this.temporal.workflow.start<typeof ingestDocumentWorkflow>('ingestDocumentWorkflow', {
        taskQueue: TASK_QUEUES.ingest,
        workflowId,
        args: [input],
        staticSummary: `Ingest ${input.documentId} v${input.version} into ${input.collection} (${input.targets.map((t) => `g${t.generation}`).join(' + ')})`,
        ...(searchable && { typedSearchAttributes: runSearchAttributes({ tenantId: input.tenantId, collection: input.collection, generation: collection.generation, stage: 'queued' }) }),
        // Same bytes while a run is in flight: join it. After a failure: a fresh run may retry.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
    } catch (error) {
      if ((error as Error).name === 'WorkflowExecutionAlreadyStartedError') return;
      throw new PlatformError('orchestrator_unavailable', 'the workflow service could not be reached; the upload is stored, send it again to retry', 503);
    }
  }
}

function assertReadableText(bytes: Uint8Array): void {
  try {
    if (decodeUtf8(bytes).trim().length === 0) throw new PlatformError(DocumentErrorCode.emptyDocument, 'the document holds only whitespace', 422);
  } catch (error) {
    if (error instanceof DocumentRejected) throw new PlatformError(error.code, error.message, 415);
    throw error;
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof WorkflowNotFoundError)) throw error;
}
