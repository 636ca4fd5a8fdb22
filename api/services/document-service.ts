import { collectionNotFound } from '../../lib/stores/collection-store';
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DocumentErrorCode, PlatformError } from '../../lib/errors';
import { defaultChunking } from '../../lib/ingest/chunk';
import { detectMediaType } from '../../lib/ingest/media-type';
import { DocumentRejected, decodeUtf8 } from '../../lib/ingest/parse';
import { deleteWorkflowId, ingestWorkflowId, TASK_QUEUES, type IngestDocumentInput } from '../../lib/ingest/types';
import type { Platform } from '../../lib/platform';
import { runSearchAttributes } from '../../lib/search-attributes';
import type { CollectionRecord, DocumentRecord } from '../../lib/stores/metadata-store';
import type { deleteDocumentWorkflow, ingestDocumentWorkflow } from '../../workflows';
import { orchestratorUnavailable, promptly } from './orchestrator-unavailable';
import { tenantPriority } from '../../lib/temporal/priority';

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
  /** A run was started (a new version, or a failed one tried again): answered 202, else 200. */
  started: boolean;
}

export interface DeletionAccepted {
  documentId: string;
  collection: string;
  /** Versions up to this one are removed; an upload under this id continues after it. */
  throughVersion: number;
  workflowId: string;
  status: 'running' | 'completed' | 'failed';
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
    const { sha256 } = await blobs.putRaw(bytes);
    const documentId = request.documentId ?? derivedDocumentId(collection.name, sha256);
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
      workflowIdFor: (version) => ingestWorkflowId(request.tenantId, documentId, version),
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
      // A duplicate still queued is joined, not started (its first upload started it): 200.
      started: !registered.duplicate || registered.retry,
    };
  }

  async get(tenantId: string, documentId: string): Promise<DocumentRecord> {
    const doc = await this.platform.metadata.getDocument(tenantId, documentId);
    if (!doc) throw new PlatformError('document_not_found', `no document ${documentId}`, 404);
    return doc;
  }

  async list(tenantId: string, collection: string, options: { limit: number; after?: string }): Promise<DocumentRecord[]> {
    if (!(await this.platform.metadata.getCollection(tenantId, collection))) {
      throw collectionNotFound(collection);
    }
    return this.platform.metadata.listDocuments(tenantId, collection, options);
  }

  /**
   * Starts the document's deletion run, then tombstones it (queries stop seeing it at once) and
   * answers with the run. With the orchestrator out of reach nothing is changed: 503, and the
   * same DELETE later starts it. The run removes points, versions and bytes (deleteDocumentWorkflow).
   */
  async delete(tenantId: string, documentId: string): Promise<DeletionAccepted> {
    const { metadata } = this.platform;
    const doc = await metadata.getDocument(tenantId, documentId);
    if (!doc) throw new PlatformError('document_not_found', `no document ${documentId}`, 404);
    const workflowId = deleteWorkflowId(tenantId, documentId, doc.latestVersion);
    try {
      await promptly(this.temporal, () => this.temporal.workflow.start<typeof deleteDocumentWorkflow>('deleteDocumentWorkflow', {
        taskQueue: TASK_QUEUES.ingest,
        workflowId,
        args: [{ tenantId, documentId, workflowId, throughVersion: doc.latestVersion }],
        priority: tenantPriority(tenantId, 'document'),
        staticSummary: `Delete ${documentId} (versions up to ${doc.latestVersion}) from ${doc.collection}`,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      }));
    } catch (error) {
      throw orchestratorUnavailable(error, 'the document is unchanged; send the DELETE again to retry');
    }
    const tombstone = await metadata.tombstoneDocument(tenantId, documentId, workflowId, doc.latestVersion);
    if (!tombstone) throw new PlatformError('document_not_found', `no document ${documentId}`, 404);
    return { documentId, collection: tombstone.collection, throughVersion: tombstone.throughVersion, workflowId: tombstone.workflowId, status: 'running' };
  }

  /** Where a document's deletion stands, from its run in the orchestrator. */
  async deletion(tenantId: string, documentId: string): Promise<DeletionAccepted> {
    const tombstone = await this.platform.metadata.tombstone(tenantId, documentId);
    if (!tombstone) throw new PlatformError('deletion_not_found', `document ${documentId} is not being or has not been deleted`, 404);
    let status: DeletionAccepted['status'];
    try {
      const run = await promptly(this.temporal, () => this.temporal.workflow.getHandle(tombstone.workflowId).describe());
      status = run.status.name === 'COMPLETED' ? 'completed' : run.status.name === 'RUNNING' ? 'running' : 'failed';
    } catch (error) {
      throw orchestratorUnavailable(error, 'the deletion status cannot be read now; it goes on');
    }
    return { documentId, ...tombstone, status };
  }

  private async startIngestion(workflowId: string, collection: CollectionRecord, input: IngestDocumentInput): Promise<void> {
    const searchable = this.platform.config.TEMPORAL_SEARCH_ATTRIBUTES === 'on';
    try {
      await promptly(this.temporal, () => this.temporal.workflow.start<typeof ingestDocumentWorkflow>('ingestDocumentWorkflow', {
        taskQueue: TASK_QUEUES.ingest,
        workflowId,
        args: [input],
        priority: tenantPriority(input.tenantId, 'document'),
        staticSummary: `Ingest ${input.documentId} v${input.version} into ${input.collection} (${input.targets.map((t) => `g${t.generation}`).join(' + ')})`,
        ...(searchable && { typedSearchAttributes: runSearchAttributes({ tenantId: input.tenantId, collection: input.collection, generation: collection.generation, stage: 'queued' }) }),
        // One id per version. Running: join it. Closed while the version still needs a run (it
        // failed, or was stopped before it finished): a new run of the same version.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      }));
    } catch (error) {
      throw orchestratorUnavailable(error, 'the upload is stored; send it again to retry');
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

/** An orchestrator error as the caller sees it: 503 with what state things are in; the cause goes to the log. */
