import { PlatformError } from '../errors';
import { spaceNameOf } from './index-name';
import type { CollectionRecord } from './metadata-store';
import { type SqlDatabase, type SqlExecutor, isoTimestamp as iso } from './sql';
import type { FilterableType } from './vector-index';

/** What a tenant chooses for a collection beyond its index settings. */
export interface CollectionSettings {
  /** Evidence below it is not an answer; null: the deployment's default. */
  relevanceFloor: number | null;
  /** Metadata keys filters may name, with their types (payload indexes); null: any key a document has carried. */
  filterableKeys: Record<string, FilterableType> | null;
}

export interface CollectionSummary extends CollectionRecord, CollectionSettings {
  /** Every metadata key the collection's documents have carried. */
  metadataKeys: string[];
  /** Documents with an active version (searchable). */
  documents: number;
  /** Chunks of those versions in the live generation. */
  chunks: number;
  createdAt: string;
}

export interface CollectionTombstone {
  tenantId: string;
  name: string;
  workflowId: string;
  deletedAt: string;
  /** The deletion has removed everything; the name can be created again. */
  purged: boolean;
}

/** What the query path needs to admit a question: the floor and the keys a filter may name. */
export interface QueryAdmission {
  relevanceFloor: number | null;
  filterKeys: string[];
  /** Changes whenever what the collection serves changes (migration 029): cached answers are keyed by it. */
  contentVersion: string;
  /** The generation queries are served from right now (null: none is live yet). */
  generation: number | null;
}

export const collectionBeingDeleted = (name: string) =>
  new PlatformError('collection_being_deleted', `collection ${name} is being deleted; create or upload into it again once GET /v1/collections/${name}/deletion says completed`, 409);

/**
 * Creates a collection, or brings back one whose deletion has finished (its generation numbers
 * continue after the old ones, whose points are gone). A collection being deleted is refused.
 * Returns null when it already exists and `existing` is 'refuse'.
 */
export async function insertCollection(db: SqlDatabase, record: CollectionRecord, settings: CollectionSettings, existing: 'keep' | 'refuse'): Promise<{ collection: CollectionRecord; created: boolean }> {
  return db.transaction(async (tx) => {
    const inserted = await tx.query(
      `insert into collections (tenant_id, name, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, generation, relevance_floor, filterable_keys)
       values ($1, $2, $3, $4, $5, $6, 1, $7, $8) on conflict (tenant_id, name) do nothing returning 1`,
      [record.tenantId, record.name, record.embeddingModel, record.dimensions, record.chunkSizeTokens, record.chunkOverlapTokens, settings.relevanceFloor, settings.filterableKeys && JSON.stringify(settings.filterableKeys)],
    );
    let created = inserted.length > 0;
    const [row] = await tx.query<Record<string, unknown>>('select * from collections where tenant_id = $1 and name = $2 for update', [record.tenantId, record.name]);
    if (!row) throw new Error(`collection ${record.name} vanished after insert`);
    if (!created && row.deleted_at !== null) {
      if (row.purged_at === null) throw collectionBeingDeleted(record.name);
      const [{ next }] = (await tx.query<{ next: number }>(
        'select coalesce(max(generation), 0) + 1 as next from collection_generations where tenant_id = $1 and collection = $2',
        [record.tenantId, record.name],
      )) as [{ next: number }];
      await tx.query(
        `update collections set embedding_model = $3, dimensions = $4, chunk_size_tokens = $5, chunk_overlap_tokens = $6, generation = $7,
           relevance_floor = $8, filterable_keys = $9, metadata_keys = '[]', deleted_at = null, deletion_workflow_id = null, purged_at = null, created_at = now()
         where tenant_id = $1 and name = $2`,
        [record.tenantId, record.name, record.embeddingModel, record.dimensions, record.chunkSizeTokens, record.chunkOverlapTokens, next, settings.relevanceFloor, settings.filterableKeys && JSON.stringify(settings.filterableKeys)],
      );
      created = true;
    } else if (!created && existing === 'refuse') {
      throw new PlatformError('collection_exists', `collection ${record.name} exists; change its settings with PATCH or re-index it`, 409);
    }
    const [current] = await tx.query<Record<string, unknown>>('select * from collections where tenant_id = $1 and name = $2', [record.tenantId, record.name]);
    const collection = toCollection(current as Record<string, unknown>);
    await tx.query(
      `insert into collection_generations (tenant_id, collection, generation, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, state, index_name)
       values ($1, $2, $3, $4, $5, $6, $7, 'live', $8) on conflict do nothing`,
      [collection.tenantId, collection.name, collection.generation, collection.embeddingModel, collection.dimensions, collection.chunkSizeTokens, collection.chunkOverlapTokens, spaceNameOf(collection.embeddingModel, collection.dimensions)],
    );
    return { collection, created };
  });
}

/** Collections as a tenant manages them: listing with counts, settings, and the deletion's tombstone. */
export class CollectionStore {
  constructor(private readonly db: SqlDatabase) {}

  async list(tenantId: string): Promise<CollectionSummary[]> {
    return this.summaries(tenantId, null);
  }

  async get(tenantId: string, name: string): Promise<CollectionSummary | null> {
    return (await this.summaries(tenantId, name))[0] ?? null;
  }

  async create(record: CollectionRecord, settings: CollectionSettings): Promise<CollectionRecord> {
    return (await insertCollection(this.db, record, settings, 'refuse')).collection;
  }

  /** Changes what is given; null resets a setting. Filterable keys are added to, never taken away (their indexes stay). */
  async updateSettings(tenantId: string, name: string, patch: Partial<CollectionSettings>): Promise<CollectionSummary> {
    const rows = await this.db.query(
      `update collections set
         relevance_floor = case when $3 then $4::double precision else relevance_floor end,
         filterable_keys = case when $5 then coalesce(filterable_keys, '{}'::jsonb) || $6::jsonb else filterable_keys end
       where tenant_id = $1 and name = $2 and deleted_at is null returning 1`,
      [tenantId, name, 'relevanceFloor' in patch, patch.relevanceFloor ?? null, patch.filterableKeys !== undefined && patch.filterableKeys !== null, JSON.stringify(patch.filterableKeys ?? {})],
    );
    if (rows.length === 0) throw collectionNotFound(name);
    return (await this.get(tenantId, name)) as CollectionSummary;
  }

  async admission(tenantId: string, name: string): Promise<QueryAdmission | null> {
    const [row] = await this.db.query<{ relevance_floor: number | null; filterable_keys: Record<string, unknown> | null; metadata_keys: string[]; content_version: string | number; generation: number | null }>(
      `select relevance_floor, filterable_keys, metadata_keys, content_version,
         (select g.generation from collection_generations g where g.tenant_id = c.tenant_id and g.collection = c.name and g.state = 'live') as generation
       from collections c where tenant_id = $1 and name = $2 and deleted_at is null`,
      [tenantId, name],
    );
    if (!row) return null;
    return {
      relevanceFloor: row.relevance_floor,
      filterKeys: row.filterable_keys ? Object.keys(row.filterable_keys).sort() : row.metadata_keys,
      contentVersion: String(row.content_version),
      generation: row.generation ?? null,
    };
  }

  /**
   * Marks the collection and its documents deleted in one step: readers and queries stop seeing
   * them, uploads into it are refused until the deletion has finished. Idempotent: a second call
   * returns the deletion already under way.
   */
  async tombstone(tenantId: string, name: string, workflowId: string): Promise<CollectionTombstone | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<Record<string, unknown>>('select * from collections where tenant_id = $1 and name = $2 for update', [tenantId, name]);
      if (!row || row.purged_at !== null) return null;
      if (row.deleted_at === null) {
        await tx.query('update collections set deleted_at = now(), deletion_workflow_id = $3 where tenant_id = $1 and name = $2', [tenantId, name, workflowId]);
        await tx.query(
          `update documents set deleted_at = coalesce(deleted_at, now()), deleted_through = latest_version, deletion_workflow_id = $3, active_version = null, updated_at = now()
           where tenant_id = $1 and collection = $2`,
          [tenantId, name, workflowId],
        );
      }
      return this.tombstoneIn(tx, tenantId, name);
    });
  }

  /** The deletion a collection is under or went through, if any. */
  async deletion(tenantId: string, name: string): Promise<CollectionTombstone | null> {
    return this.tombstoneIn(this.db, tenantId, name);
  }

  /** The deleted collection's documents, a page at a time (keyset on the id), with the versions to remove. */
  async deletedDocuments(tenantId: string, name: string, after: string, limit: number): Promise<{ documentId: string; throughVersion: number }[]> {
    const rows = await this.db.query<{ document_id: string; deleted_through: number }>(
      `select document_id, deleted_through from documents where tenant_id = $1 and collection = $2 and deleted_at is not null and document_id > $3 order by document_id limit $4`,
      [tenantId, name, after, limit],
    );
    return rows.map((r) => ({ documentId: r.document_id, throughVersion: r.deleted_through }));
  }

  /** Runs that may still write into the collection: ingestion of its documents' unfinished versions, and its re-index or rollback. */
  async runsInFlight(tenantId: string, name: string): Promise<string[]> {
    const rows = await this.db.query<{ workflow_id: string }>(
      `select v.workflow_id from document_versions v join documents d on d.tenant_id = v.tenant_id and d.document_id = v.document_id
         where d.tenant_id = $1 and d.collection = $2 and v.stage not in ('ready', 'failed', 'superseded')
       union select workflow_id from reindex_runs where tenant_id = $1 and collection = $2 and finished_at is null`,
      [tenantId, name],
    );
    return rows.map((r) => r.workflow_id).sort();
  }

  /** The last step: generations dropped, labeled questions gone, the name free again. Document tombstones stay (versions are never reused). */
  async finishPurge(tenantId: string, name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`update collection_generations set state = 'dropped', retired_at = coalesce(retired_at, now()) where tenant_id = $1 and collection = $2 and state <> 'dropped'`, [tenantId, name]);
      await tx.query('delete from eval_questions where tenant_id = $1 and collection = $2', [tenantId, name]);
      await tx.query('update collections set purged_at = now() where tenant_id = $1 and name = $2 and deleted_at is not null', [tenantId, name]);
    });
  }

  private async tombstoneIn(executor: SqlExecutor, tenantId: string, name: string): Promise<CollectionTombstone | null> {
    const [row] = await executor.query<Record<string, unknown>>(
      'select deleted_at, deletion_workflow_id, purged_at from collections where tenant_id = $1 and name = $2 and deleted_at is not null',
      [tenantId, name],
    );
    if (!row) return null;
    return { tenantId, name, workflowId: row.deletion_workflow_id as string, deletedAt: iso(row.deleted_at), purged: row.purged_at !== null };
  }

  private async summaries(tenantId: string, name: string | null): Promise<CollectionSummary[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select c.*,
         (select count(*) from documents d where d.tenant_id = c.tenant_id and d.collection = c.name and d.deleted_at is null and d.active_version is not null) as document_count,
         (select coalesce(sum(g.chunk_count), 0) from generation_documents g join documents d
            on d.tenant_id = g.tenant_id and d.document_id = g.document_id and d.active_version = g.version and d.deleted_at is null
          where g.tenant_id = c.tenant_id and g.collection = c.name and g.generation = c.generation) as chunk_count
       from collections c where c.tenant_id = $1 and c.deleted_at is null and ($2::text is null or c.name = $2) order by c.name`,
      [tenantId, name],
    );
    return rows.map((row) => ({
      ...toCollection(row),
      relevanceFloor: (row.relevance_floor as number | null) ?? null,
      filterableKeys: (row.filterable_keys as Record<string, FilterableType> | null) ?? null,
      metadataKeys: (row.metadata_keys as string[]) ?? [],
      documents: Number(row.document_count),
      chunks: Number(row.chunk_count),
      createdAt: iso(row.created_at),
    }));
  }
}

export const collectionNotFound = (name: string) => new PlatformError('collection_not_found', `no collection ${name}`, 404);

export function toCollection(row: Record<string, unknown>): CollectionRecord {
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
