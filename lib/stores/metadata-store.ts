import { PlatformError } from '../errors';
import type { IngestStage, MediaType, VersionRef } from '../ingest/types';
import { type SqlDatabase, type SqlExecutor, isoTimestamp as iso } from './sql';

const MIGRATIONS: string[] = [
  `create table if not exists collections (
     tenant_id text not null,
     name text not null,
     embedding_model text not null,
     dimensions int not null,
     chunk_size_tokens int not null,
     chunk_overlap_tokens int not null,
     generation int not null default 1,
     created_at timestamptz not null default now(),
     primary key (tenant_id, name))`,
  `create table if not exists documents (
     tenant_id text not null,
     document_id text not null,
     collection text not null,
     latest_version int not null,
     active_version int,
     created_at timestamptz not null default now(),
     updated_at timestamptz not null default now(),
     primary key (tenant_id, document_id),
     foreign key (tenant_id, collection) references collections (tenant_id, name))`,
  `create index if not exists documents_by_collection on documents (tenant_id, collection, document_id)`,
  `create table if not exists document_versions (
     tenant_id text not null,
     document_id text not null,
     version int not null,
     sha256 text not null,
     size_bytes bigint not null,
     media_type text not null,
     filename text,
     title text,
     metadata jsonb not null default '{}',
     stage text not null,
     page_count int,
     chunk_count int,
     chunks_embedded int not null default 0,
     error_code text,
     error_message text,
     workflow_id text not null,
     created_at timestamptz not null default now(),
     updated_at timestamptz not null default now(),
     primary key (tenant_id, document_id, version),
     unique (tenant_id, document_id, sha256),
     foreign key (tenant_id, document_id) references documents (tenant_id, document_id) on delete cascade)`,
  // Re-indexing: each collection is served by one live generation; others are being built,
  // kept for rollback, or gone. `collections` keeps mirroring the live generation's settings.
  `create table if not exists collection_generations (
     tenant_id text not null,
     collection text not null,
     generation int not null,
     embedding_model text not null,
     dimensions int not null,
     chunk_size_tokens int not null,
     chunk_overlap_tokens int not null,
     state text not null,
     created_at timestamptz not null default now(),
     retired_at timestamptz,
     primary key (tenant_id, collection, generation),
     foreign key (tenant_id, collection) references collections (tenant_id, name))`,
  `insert into collection_generations (tenant_id, collection, generation, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, state)
     select tenant_id, name, generation, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, 'live' from collections
     on conflict do nothing`,
  // Which version of a document each generation holds, with its chunk count: what the gate checks.
  `create table if not exists generation_documents (
     tenant_id text not null,
     collection text not null,
     generation int not null,
     document_id text not null,
     version int not null,
     chunk_count int not null,
     primary key (tenant_id, collection, generation, document_id, version),
     foreign key (tenant_id, document_id) references documents (tenant_id, document_id) on delete cascade)`,
  `insert into generation_documents (tenant_id, collection, generation, document_id, version, chunk_count)
     select d.tenant_id, d.collection, c.generation, d.document_id, d.active_version, coalesce(v.chunk_count, 0)
     from documents d join collections c on c.tenant_id = d.tenant_id and c.name = d.collection
     join document_versions v on v.tenant_id = d.tenant_id and v.document_id = d.document_id and v.version = d.active_version
     on conflict do nothing`,
  `create table if not exists reindex_runs (
     id text primary key,
     tenant_id text not null,
     collection text not null,
     kind text not null,
     from_generation int not null,
     to_generation int not null,
     workflow_id text not null,
     stage text not null,
     paused boolean not null default false,
     documents_total int,
     documents_done int not null default 0,
     chunks int not null default 0,
     report jsonb,
     started_at timestamptz not null default now(),
     updated_at timestamptz not null default now(),
     finished_at timestamptz)`,
  `create index if not exists reindex_runs_by_collection on reindex_runs (tenant_id, collection, started_at)`,
  `create table if not exists reindex_errors (
     run_id text not null references reindex_runs (id) on delete cascade,
     document_id text not null,
     code text not null,
     message text not null,
     primary key (run_id, document_id))`,
  // A labeled question set per collection: what the re-index gate measures recall with.
  `create table if not exists eval_questions (
     tenant_id text not null,
     collection text not null,
     position int not null,
     question text not null,
     relevant_document_ids jsonb not null,
     primary key (tenant_id, collection, position),
     foreign key (tenant_id, collection) references collections (tenant_id, name))`,
  // The gateway: tenants, their API keys (hashes only) and the append-only audit log.
  `create table if not exists tenants (
     id text primary key,
     name text not null,
     settings jsonb not null default '{}',
     created_at timestamptz not null default now(),
     updated_at timestamptz not null default now())`,
  // Data uploaded before tenants existed belongs to 'default'; 'platform' holds the operators' keys.
  `insert into tenants (id, name) values ('default', 'Default tenant'), ('platform', 'Platform operators') on conflict (id) do nothing`,
  `create table if not exists api_keys (
     id text primary key,
     tenant_id text not null references tenants (id),
     name text not null,
     key_hash text not null unique,
     prefix text not null,
     scopes jsonb not null,
     rate_limit_per_minute int,
     created_by text,
     created_at timestamptz not null default now(),
     revoked_at timestamptz)`,
  `create index if not exists api_keys_by_tenant on api_keys (tenant_id, created_at)`,
  `create table if not exists audit_log (
     id bigserial primary key,
     at timestamptz not null default now(),
     tenant_id text not null,
     actor text,
     request_id text,
     category text not null,
     action text not null,
     target text,
     details jsonb not null default '{}')`,
  `create index if not exists audit_log_by_tenant on audit_log (tenant_id, id)`,
  `create or replace function audit_log_append_only() returns trigger language plpgsql as $$
   begin raise exception 'the audit log is append-only' using errcode = '42501'; end $$`,
  `create trigger audit_log_no_change before update or delete on audit_log for each row execute function audit_log_append_only()`,
  `create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_append_only()`,
];

export async function migrate(db: SqlDatabase): Promise<void> {
  // One transaction so two processes starting together against Postgres cannot interleave.
  await db.transaction(async (tx) => {
    await tx.query('create table if not exists schema_migrations (version int primary key)');
    const applied = new Set((await tx.query<{ version: number }>('select version from schema_migrations')).map((r) => r.version));
    for (const [index, statement] of MIGRATIONS.entries()) {
      if (applied.has(index + 1)) continue;
      await tx.query(statement);
      await tx.query('insert into schema_migrations (version) values ($1)', [index + 1]);
    }
  });
}

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
