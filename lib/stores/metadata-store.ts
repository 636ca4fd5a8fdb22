import { PlatformError } from '../errors';
import type { IngestStage, MediaType, VersionRef } from '../ingest/types';
import { type SqlDatabase, type SqlExecutor, isoTimestamp as iso } from './sql';

export interface CollectionRecord {
  tenantId: string;
  name: string;
  embeddingModel: string;
  dimensions: number;
  chunkSizeTokens: number;
  chunkOverlapTokens: number;
  generation: number;
}

export interface VersionRecord {
  version: number;
  sha256: string;
  sizeBytes: number;
  mediaType: MediaType;
  filename: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  stage: IngestStage;
  pageCount: number | null;
  chunkCount: number | null;
  chunksEmbedded: number;
  error: { code: string; message: string } | null;
  workflowId: string;
  createdAt: string;
  updatedAt: string;
}

export interface DocumentRecord {
  tenantId: string;
  documentId: string;
  collection: string;
  latestVersion: number;
  activeVersion: number | null;
  createdAt: string;
  updatedAt: string;
  versions: VersionRecord[];
}

export interface NewUpload {
  tenantId: string;
  collection: CollectionRecord;
  documentId: string;
  sha256: string;
  sizeBytes: number;
  mediaType: MediaType;
  filename: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  workflowId: string;
}

export interface Activation {
  /** The document's active version afterwards (null: still none). */
  activeVersion: number | null;
  superseded: boolean;
  /** Generations that must index this version before it can become active; empty once it is. */
  missingGenerations: number[];
}

export interface RegisteredUpload {
  version: number;
  workflowId: string;
  stage: IngestStage;
  /** Same bytes as an existing version of this document. */
  duplicate: boolean;
  /** Whether an ingestion run must be started (new version, or a retry of a failed one). */
  startRun: boolean;
}

/** Collections, documents and their versions, in one SQL dialect over Postgres or PGlite. */
export class MetadataStore {
  constructor(private readonly db: SqlDatabase) {}

  async ensureCollection(defaults: CollectionRecord): Promise<CollectionRecord> {
    await this.db.query(
      `insert into collections (tenant_id, name, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, generation)
       values ($1, $2, $3, $4, $5, $6, $7) on conflict (tenant_id, name) do nothing`,
      [defaults.tenantId, defaults.name, defaults.embeddingModel, defaults.dimensions, defaults.chunkSizeTokens, defaults.chunkOverlapTokens, defaults.generation],
    );
    const collection = await this.getCollection(defaults.tenantId, defaults.name);
    if (!collection) throw new Error(`collection ${defaults.name} vanished after insert`);
    await this.db.query(
      `insert into collection_generations (tenant_id, collection, generation, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, state)
       values ($1, $2, $3, $4, $5, $6, $7, 'live') on conflict do nothing`,
      [collection.tenantId, collection.name, collection.generation, collection.embeddingModel, collection.dimensions, collection.chunkSizeTokens, collection.chunkOverlapTokens],
    );
    return collection;
  }

  async getCollection(tenantId: string, name: string): Promise<CollectionRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from collections where tenant_id = $1 and name = $2', [tenantId, name]);
    return row ? toCollection(row) : null;
  }

  /**
   * Allocates the version for an upload in one transaction: identical bytes map to the version that
   * already holds them, changed bytes get latest + 1. The row lock on the document serialises
   * concurrent uploads of the same document.
   */
  async registerUpload(upload: NewUpload): Promise<RegisteredUpload> {
    return this.db.transaction(async (tx) => {
      const { tenantId, documentId } = upload;
      await tx.query(
        `insert into documents (tenant_id, document_id, collection, latest_version) values ($1, $2, $3, 0)
         on conflict (tenant_id, document_id) do nothing`,
        [tenantId, documentId, upload.collection.name],
      );
      const [doc] = await tx.query<{ collection: string; latest_version: number }>(
        'select collection, latest_version from documents where tenant_id = $1 and document_id = $2 for update',
        [tenantId, documentId],
      );
      if (!doc) throw new Error('document row missing after insert');
      if (doc.collection !== upload.collection.name) {
        throw new PlatformError('document_in_other_collection', `document ${documentId} belongs to collection ${doc.collection}`, 409);
      }
      const [existing] = await tx.query<{ version: number; stage: IngestStage; workflow_id: string }>(
        'select version, stage, workflow_id from document_versions where tenant_id = $1 and document_id = $2 and sha256 = $3',
        [tenantId, documentId, upload.sha256],
      );
      if (existing) {
        const retry = existing.stage === 'failed';
        if (retry) await this.updateVersion(tx, { tenantId, documentId, version: existing.version }, { stage: 'queued', error_code: null, error_message: null });
        // A version still queued may never have reached the orchestrator: starting again is idempotent.
        const startRun = retry || existing.stage === 'queued';
        return { version: existing.version, workflowId: existing.workflow_id, stage: retry ? 'queued' : existing.stage, duplicate: true, startRun };
      }
      const version = doc.latest_version + 1;
      await tx.query(
        `insert into document_versions (tenant_id, document_id, version, sha256, size_bytes, media_type, filename, title, metadata, stage, workflow_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10)`,
        [tenantId, documentId, version, upload.sha256, upload.sizeBytes, upload.mediaType, upload.filename, upload.title, JSON.stringify(upload.metadata), upload.workflowId],
      );
      await tx.query('update documents set latest_version = $3, updated_at = now() where tenant_id = $1 and document_id = $2', [tenantId, documentId, version]);
      return { version, workflowId: upload.workflowId, stage: 'queued', duplicate: false, startRun: true };
    });
  }

  /** Returns false when the version no longer exists (its document was deleted meanwhile). */
  async setStage(ref: VersionRef, stage: IngestStage, counts: { pageCount?: number; chunkCount?: number; chunksEmbedded?: number } = {}): Promise<boolean> {
    return this.updateVersion(this.db, ref, {
      stage,
      ...(counts.pageCount !== undefined && { page_count: counts.pageCount }),
      ...(counts.chunkCount !== undefined && { chunk_count: counts.chunkCount }),
      ...(counts.chunksEmbedded !== undefined && { chunks_embedded: counts.chunksEmbedded }),
    });
  }

  async markFailed(ref: VersionRef, code: string, message: string): Promise<void> {
    await this.updateVersion(this.db, ref, { stage: 'failed', error_code: code, error_message: message.slice(0, 2000) });
  }

  /**
   * Makes a fully indexed version the active one. Versions only move forward: a slower, older run
   * finishing after a newer one finds itself superseded. A version becomes active only once every
   * generation that serves or is being built holds it; otherwise nothing changes and the missing
   * generations are named (a re-index began after this upload was routed). The collection row
   * lock orders this against a generation swap. Returns null if the document is gone.
   */
  async activateVersion(ref: VersionRef): Promise<Activation | null> {
    return this.db.transaction(async (tx) => {
      await tx.query('select 1 from collections where tenant_id = $1 and name = $2 for update', [ref.tenantId, ref.collection]);
      const [doc] = await tx.query<{ active_version: number | null }>(
        'select active_version from documents where tenant_id = $1 and document_id = $2 for update',
        [ref.tenantId, ref.documentId],
      );
      const [version] = await tx.query('select 1 from document_versions where tenant_id = $1 and document_id = $2 and version = $3', [ref.tenantId, ref.documentId, ref.version]);
      if (!doc || !version) return null;
      const superseded = doc.active_version !== null && doc.active_version > ref.version;
      if (!superseded) {
        const missing = await tx.query<{ generation: number }>(
          `select g.generation from collection_generations g
           where g.tenant_id = $1 and g.collection = $2 and g.state in ('live', 'building')
             and not exists (select 1 from generation_documents d where d.tenant_id = g.tenant_id and d.collection = g.collection
                             and d.generation = g.generation and d.document_id = $3 and d.version = $4)
           order by g.generation`,
          [ref.tenantId, ref.collection, ref.documentId, ref.version],
        );
        if (missing.length > 0) return { activeVersion: doc.active_version, superseded: false, missingGenerations: missing.map((m) => m.generation) };
      }
      const activeVersion = superseded ? (doc.active_version as number) : ref.version;
      await tx.query('update documents set active_version = $3, updated_at = now() where tenant_id = $1 and document_id = $2', [ref.tenantId, ref.documentId, activeVersion]);
      await tx.query(
        `update document_versions set stage = case when version = $3 then 'ready' else 'superseded' end, updated_at = now()
         where tenant_id = $1 and document_id = $2 and (version = $3 or (version < $3 and stage = 'ready'))`,
        [ref.tenantId, ref.documentId, activeVersion],
      );
      // Older versions (a superseded one included) leave every generation; a newer one in flight keeps its rows.
      await tx.query('delete from generation_documents where tenant_id = $1 and document_id = $2 and version < $3', [ref.tenantId, ref.documentId, activeVersion]);
      if (superseded) await this.updateVersion(tx, ref, { stage: 'superseded' });
      return { activeVersion, superseded, missingGenerations: [] };
    });
  }

  async getDocument(tenantId: string, documentId: string): Promise<DocumentRecord | null> {
    const [doc] = await this.db.query<Record<string, unknown>>('select * from documents where tenant_id = $1 and document_id = $2', [tenantId, documentId]);
    if (!doc) return null;
    const versions = await this.db.query<Record<string, unknown>>(
      'select * from document_versions where tenant_id = $1 and document_id = $2 order by version desc',
      [tenantId, documentId],
    );
    return toDocument(doc, versions.map(toVersion));
  }

  /** The active version of each of these documents that has one; deleted documents are absent. */
  async activeVersions(tenantId: string, documentIds: string[]): Promise<Map<string, number>> {
    if (documentIds.length === 0) return new Map();
    const rows = await this.db.query<{ document_id: string; active_version: number }>(
      'select document_id, active_version from documents where tenant_id = $1 and document_id = any($2::text[]) and active_version is not null',
      [tenantId, documentIds],
    );
    return new Map(rows.map((row) => [row.document_id, row.active_version]));
  }

  /** Keyset-paginated by document id, newest version of each included. */
  async listDocuments(tenantId: string, collection: string, options: { limit: number; after?: string }): Promise<DocumentRecord[]> {
    const docs = await this.db.query<Record<string, unknown>>(
      `select * from documents where tenant_id = $1 and collection = $2 and document_id > $3 order by document_id limit $4`,
      [tenantId, collection, options.after ?? '', options.limit],
    );
    if (docs.length === 0) return [];
    const versions = await this.db.query<Record<string, unknown>>(
      `select * from document_versions where tenant_id = $1 and document_id = any($2::text[]) order by version desc`,
      [tenantId, docs.map((d) => d.document_id)],
    );
    return docs.map((doc) => toDocument(doc, versions.filter((v) => v.document_id === doc.document_id).map(toVersion)));
  }

  /** Removes the document and its versions; returns what was removed so the caller can clean up. */
  async deleteDocument(tenantId: string, documentId: string): Promise<DocumentRecord | null> {
    const doc = await this.getDocument(tenantId, documentId);
    if (!doc) return null;
    // Versions go with it (on delete cascade), in the same statement.
    await this.db.query('delete from documents where tenant_id = $1 and document_id = $2', [tenantId, documentId]);
    return doc;
  }

  /** Whether any version of any document still references these bytes (blobs are shared by hash). */
  async isBlobReferenced(sha256: string): Promise<boolean> {
    const rows = await this.db.query('select 1 from document_versions where sha256 = $1 limit 1', [sha256]);
    return rows.length > 0;
  }

  private async updateVersion(executor: SqlExecutor, ref: Pick<VersionRef, 'tenantId' | 'documentId' | 'version'>, fields: Record<string, unknown>): Promise<boolean> {
    const names = Object.keys(fields);
    const assignments = names.map((name, i) => `${name} = $${i + 4}`).join(', ');
    const rows = await executor.query(
      `update document_versions set ${assignments}, updated_at = now() where tenant_id = $1 and document_id = $2 and version = $3 returning 1`,
      [ref.tenantId, ref.documentId, ref.version, ...names.map((n) => fields[n])],
    );
    return rows.length > 0;
  }
}

function toCollection(row: Record<string, unknown>): CollectionRecord {
  return {
    tenantId: row.tenant_id as string,
    name: row.name as string,
    embeddingModel: row.embedding_model as string,
    dimensions: row.dimensions as number,
    chunkSizeTokens: row.chunk_size_tokens as number,
    chunkOverlapTokens: row.chunk_overlap_tokens as number,
    generation: row.generation as number,
  };
}

function toVersion(row: Record<string, unknown>): VersionRecord {
  return {
    version: row.version as number,
    sha256: row.sha256 as string,
    sizeBytes: Number(row.size_bytes),
    mediaType: row.media_type as MediaType,
    filename: (row.filename as string | null) ?? null,
    title: (row.title as string | null) ?? null,
    metadata: (row.metadata as Record<string, unknown>) ?? {},
    stage: row.stage as IngestStage,
    pageCount: (row.page_count as number | null) ?? null,
    chunkCount: (row.chunk_count as number | null) ?? null,
    chunksEmbedded: row.chunks_embedded as number,
    error: row.error_code ? { code: row.error_code as string, message: (row.error_message as string) ?? '' } : null,
    workflowId: row.workflow_id as string,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function toDocument(row: Record<string, unknown>, versions: VersionRecord[]): DocumentRecord {
  return {
    tenantId: row.tenant_id as string,
    documentId: row.document_id as string,
    collection: row.collection as string,
    latestVersion: row.latest_version as number,
    activeVersion: (row.active_version as number | null) ?? null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    versions,
  };
}
