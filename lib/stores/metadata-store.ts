import { PlatformError } from '../errors';
import { INGEST_STAGES, type IngestStage, type MediaType, type VersionRef } from '../ingest/types';
import { insertCollection, toCollection } from './collection-store';
import { type SqlDatabase, type SqlExecutor, isoTimestamp as iso } from './sql';

/** Stages a version does not leave: everything else is the ingestion backlog (migration 027 indexes exactly those rows). */
const FINISHED_STAGES: readonly IngestStage[] = ['ready', 'failed', 'superseded'];

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
  /** The ingestion run's id for the version the upload gets. */
  workflowIdFor: (version: number) => string;
}

export interface Activation {
  /** The document's active version afterwards (null: still none). */
  activeVersion: number | null;
  superseded: boolean;
  /** Generations that must index this version before it can become active; empty once it is. */
  missingGenerations: number[];
}

export interface Tombstone {
  tenantId: string;
  documentId: string;
  collection: string;
  /** Versions up to this one are deleted; a document uploaded again continues after it. */
  throughVersion: number;
  /** The run that removes them. */
  workflowId: string;
  versions: VersionRecord[];
}

export interface RegisteredUpload {
  version: number;
  workflowId: string;
  stage: IngestStage;
  /** Same bytes as the document's latest version. */
  duplicate: boolean;
  /** That version had failed and is tried again. */
  retry: boolean;
  /** Whether an ingestion run must be started (new version, or a retry of a failed one). */
  startRun: boolean;
}

/** Collections, documents and their versions, in one SQL dialect over Postgres or PGlite. */
export class MetadataStore {
  constructor(private readonly db: SqlDatabase) {}

  /** The collection, created with these settings if it does not exist (uploads create collections); refused while it is being deleted. */
  async ensureCollection(defaults: CollectionRecord): Promise<CollectionRecord> {
    return (await insertCollection(this.db, defaults, { relevanceFloor: null, filterableKeys: null }, 'keep')).collection;
  }

  async getCollection(tenantId: string, name: string): Promise<CollectionRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from collections where tenant_id = $1 and name = $2 and deleted_at is null', [tenantId, name]);
    return row ? toCollection(row) : null;
  }

  /**
   * Allocates the version for an upload in one transaction. Bytes identical to the latest version
   * map to it (a no-op, or a retry if it failed); anything else, the bytes of an older version
   * included, becomes latest + 1, so what was uploaded last is what becomes searchable. A deleted
   * document comes back with newer versions: numbers are never reused. The row lock on the
   * document serialises concurrent uploads of the same document.
   */
  async registerUpload(upload: NewUpload): Promise<RegisteredUpload> {
    return this.db.transaction(async (tx) => {
      const { tenantId, documentId } = upload;
      await tx.query(
        `insert into documents (tenant_id, document_id, collection, latest_version) values ($1, $2, $3, 0)
         on conflict (tenant_id, document_id) do nothing`,
        [tenantId, documentId, upload.collection.name],
      );
      const [doc] = await tx.query<{ collection: string; latest_version: number; deleted_at: unknown; deleted_through: number | null }>(
        'select collection, latest_version, deleted_at, deleted_through from documents where tenant_id = $1 and document_id = $2 for update',
        [tenantId, documentId],
      );
      if (!doc) throw new Error('document row missing after insert');
      if (doc.deleted_at !== null) {
        await tx.query(
          `update documents set deleted_at = null, deletion_workflow_id = null, collection = $3, active_version = null, updated_at = now()
           where tenant_id = $1 and document_id = $2`,
          [tenantId, documentId, upload.collection.name],
        );
      } else if (doc.collection !== upload.collection.name) {
        throw new PlatformError('document_in_other_collection', `document ${documentId} belongs to collection ${doc.collection}`, 409);
      }
      const deletedThrough = doc.deleted_through ?? 0;
      const [latest] = await tx.query<{ version: number; sha256: string; stage: IngestStage; workflow_id: string }>(
        'select version, sha256, stage, workflow_id from document_versions where tenant_id = $1 and document_id = $2 and version = $3 and version > $4',
        [tenantId, documentId, doc.latest_version, deletedThrough],
      );
      if (latest && latest.sha256 === upload.sha256) {
        const retry = latest.stage === 'failed';
        if (retry) await this.updateVersion(tx, { tenantId, documentId, version: latest.version }, { stage: 'queued', error_code: null, error_message: null });
        // A version still queued may never have reached the orchestrator: starting again is idempotent.
        const startRun = retry || latest.stage === 'queued';
        return { version: latest.version, workflowId: latest.workflow_id, stage: retry ? 'queued' : latest.stage, duplicate: true, retry, startRun };
      }
      const version = doc.latest_version + 1;
      const workflowId = upload.workflowIdFor(version);
      await tx.query(
        `insert into document_versions (tenant_id, document_id, version, sha256, size_bytes, media_type, filename, title, metadata, stage, workflow_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10)`,
        [tenantId, documentId, version, upload.sha256, upload.sizeBytes, upload.mediaType, upload.filename, upload.title, JSON.stringify(upload.metadata), workflowId],
      );
      await tx.query('update documents set latest_version = $3, updated_at = now() where tenant_id = $1 and document_id = $2', [tenantId, documentId, version]);
      const keys = Object.keys(upload.metadata);
      if (keys.length > 0) {
        await tx.query(
          `update collections set metadata_keys = (select coalesce(jsonb_agg(distinct k order by k), '[]') from
             (select jsonb_array_elements_text(metadata_keys) k union select jsonb_array_elements_text($3::jsonb)) keys)
           where tenant_id = $1 and name = $2`,
          [tenantId, upload.collection.name, JSON.stringify(keys)],
        );
      }
      return { version, workflowId, stage: 'queued', duplicate: false, retry: false, startRun: true };
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

  /** Versions still on their way to `ready`, by stage: the ingestion queue (a partial index keeps this cheap). */
  async countBacklog(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ stage: string; count: string }>(
      `select stage, count(*) as count from document_versions where stage not in (${FINISHED_STAGES.map((stage) => `'${stage}'`).join(', ')}) group by stage`,
    );
    const counts: Record<string, number> = Object.fromEntries(INGEST_STAGES.filter((stage) => !FINISHED_STAGES.includes(stage)).map((stage) => [stage, 0]));
    for (const row of rows) counts[row.stage] = Number(row.count);
    return counts;
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
      const [doc] = await tx.query<{ active_version: number | null; deleted_through: number | null }>(
        'select active_version, deleted_through from documents where tenant_id = $1 and document_id = $2 for update',
        [ref.tenantId, ref.documentId],
      );
      const [version] = await tx.query('select 1 from document_versions where tenant_id = $1 and document_id = $2 and version = $3', [ref.tenantId, ref.documentId, ref.version]);
      // A version a deletion covers never becomes active again, even if its document came back.
      if (!doc || !version || ref.version <= (doc.deleted_through ?? 0)) return null;
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
    const [doc] = await this.db.query<Record<string, unknown>>('select * from documents where tenant_id = $1 and document_id = $2 and deleted_at is null', [tenantId, documentId]);
    if (!doc) return null;
    const versions = await this.db.query<Record<string, unknown>>(
      `select v.*, g.chunk_count as live_chunk_count from document_versions v
         left join collections c on c.tenant_id = v.tenant_id and c.name = $3
         left join generation_documents g on g.tenant_id = v.tenant_id and g.document_id = v.document_id and g.version = v.version and g.collection = c.name and g.generation = c.generation
       where v.tenant_id = $1 and v.document_id = $2 order by v.version desc`,
      [tenantId, documentId, doc.collection],
    );
    return toDocument(doc, versions.map(toVersion));
  }

  /** The active version of each of these documents that has one; deleted documents are absent. */
  async activeVersions(tenantId: string, documentIds: string[]): Promise<Map<string, number>> {
    if (documentIds.length === 0) return new Map();
    const rows = await this.db.query<{ document_id: string; active_version: number }>(
      'select document_id, active_version from documents where tenant_id = $1 and document_id = any($2::text[]) and active_version is not null and deleted_at is null',
      [tenantId, documentIds],
    );
    return new Map(rows.map((row) => [row.document_id, row.active_version]));
  }

  /** Keyset-paginated by document id, newest version of each included. */
  async listDocuments(tenantId: string, collection: string, options: { limit: number; after?: string }): Promise<DocumentRecord[]> {
    const docs = await this.db.query<Record<string, unknown>>(
      `select * from documents where tenant_id = $1 and collection = $2 and document_id > $3 and deleted_at is null order by document_id limit $4`,
      [tenantId, collection, options.after ?? '', options.limit],
    );
    if (docs.length === 0) return [];
    const versions = await this.db.query<Record<string, unknown>>(
      `select v.*, g.chunk_count as live_chunk_count from document_versions v
         left join collections c on c.tenant_id = v.tenant_id and c.name = $3
         left join generation_documents g on g.tenant_id = v.tenant_id and g.document_id = v.document_id and g.version = v.version and g.collection = c.name and g.generation = c.generation
       where v.tenant_id = $1 and v.document_id = any($2::text[]) order by v.version desc`,
      [tenantId, docs.map((d) => d.document_id), collection],
    );
    return docs.map((doc) => toDocument(doc, versions.filter((v) => v.document_id === doc.document_id).map(toVersion)));
  }

  /**
   * Marks a document's versions up to `throughVersion` deleted: queries and readers stop seeing
   * the document at once, none of those versions can activate again, and they are the deletion's
   * to remove. Idempotent, and never more than that: a document uploaded again since (a newer
   * version) stays as it is. Null if there is no such document.
   */
  async tombstoneDocument(tenantId: string, documentId: string, workflowId: string, throughVersion: number): Promise<Tombstone | null> {
    return this.db.transaction(async (tx) => {
      const [doc] = await tx.query<{ collection: string; latest_version: number; deleted_through: number | null; deletion_workflow_id: string | null }>(
        'select collection, latest_version, deleted_through, deletion_workflow_id from documents where tenant_id = $1 and document_id = $2 for update',
        [tenantId, documentId],
      );
      if (!doc) return null;
      let owner = doc.deletion_workflow_id ?? workflowId;
      if ((doc.deleted_through ?? 0) < throughVersion) {
        // Newer versions than the deletion saw (uploaded meanwhile) keep the document alive.
        const whole = doc.latest_version <= throughVersion;
        await tx.query(
          `update documents set deleted_through = $3, deletion_workflow_id = $4, updated_at = now(),
             deleted_at = case when $5 then now() else deleted_at end,
             active_version = case when active_version <= $3 then null else active_version end
           where tenant_id = $1 and document_id = $2`,
          [tenantId, documentId, throughVersion, workflowId, whole],
        );
        owner = workflowId;
      }
      const versions = await tx.query<Record<string, unknown>>(
        'select * from document_versions where tenant_id = $1 and document_id = $2 and version <= $3 order by version desc',
        [tenantId, documentId, throughVersion],
      );
      return { tenantId, documentId, collection: doc.collection, throughVersion, workflowId: owner, versions: versions.map(toVersion) };
    });
  }

  /** The deletion a document is under, if it is deleted (and has not come back since). */
  async tombstone(tenantId: string, documentId: string): Promise<Pick<Tombstone, 'collection' | 'throughVersion' | 'workflowId'> | null> {
    const [row] = await this.db.query<{ collection: string; deleted_through: number; deletion_workflow_id: string }>(
      'select collection, deleted_through, deletion_workflow_id from documents where tenant_id = $1 and document_id = $2 and deleted_at is not null',
      [tenantId, documentId],
    );
    return row ? { collection: row.collection, throughVersion: row.deleted_through, workflowId: row.deletion_workflow_id } : null;
  }

  /**
   * The last step of a deletion: the versions it covers and what generations recorded of them
   * go; returns their blobs' hashes so the caller can remove those no one else references.
   */
  async purgeVersions(tenantId: string, documentId: string, throughVersion: number): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const removed = await tx.query<{ sha256: string }>(
        'delete from document_versions where tenant_id = $1 and document_id = $2 and version <= $3 returning sha256',
        [tenantId, documentId, throughVersion],
      );
      await tx.query('delete from generation_documents where tenant_id = $1 and document_id = $2 and version <= $3', [tenantId, documentId, throughVersion]);
      return [...new Set(removed.map((r) => r.sha256))];
    });
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
    // The live generation's count where it holds the version (a re-index changes it), else the count at ingestion.
    chunkCount: (row.live_chunk_count as number | null) ?? (row.chunk_count as number | null) ?? null,
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
