import { collectionNotFound } from './collection-store';
import { PlatformError } from '../errors';
import type { ChunkingSettings, IndexTarget, MediaType } from '../ingest/types';
import { legacyIndexNameOf, spaceNameOf } from './index-name';
import { type SqlDatabase, type SqlExecutor, isoTimestamp as iso } from './sql';

/**
 * building: being filled by a re-index (uploads reach it too); live: what queries read;
 * retained: the previous live one, kept for rollback; failed / cancelled / dropped: gone.
 */
export type GenerationState = 'building' | 'live' | 'retained' | 'failed' | 'cancelled' | 'dropped';

export interface GenerationRecord {
  tenantId: string;
  collection: string;
  generation: number;
  embeddingModel: string;
  dimensions: number;
  chunking: ChunkingSettings;
  state: GenerationState;
  createdAt: string;
  retiredAt: string | null;
  /** The space its points live in (shared by the model's generations); null: a legacy index of its own. */
  indexName: string | null;
}

export interface GenerationSettings {
  embeddingModel: string;
  dimensions: number;
  chunking: ChunkingSettings;
}

/** The active version of a document, with what re-indexing it needs. */
export interface ActiveDocument {
  documentId: string;
  version: number;
  sha256: string;
  mediaType: MediaType;
  title: string | null;
  metadata: Record<string, unknown>;
}

export interface IndexedDocument {
  tenantId: string;
  collection: string;
  generation: number;
  documentId: string;
  version: number;
  chunkCount: number;
}

/** States whose index still exists: deletions must reach every one of them. */
const KEPT_STATES: readonly GenerationState[] = ['building', 'live', 'retained'];

/** Documents of collection ($1, $2) whose active version generation $3 does not hold. */
const ACTIVE_NOT_HELD = `from documents d
  where d.tenant_id = $1 and d.collection = $2 and d.active_version is not null
    and not exists (select 1 from generation_documents g where g.tenant_id = d.tenant_id and g.collection = d.collection
                    and g.generation = $3 and g.document_id = d.document_id and g.version = d.active_version)`;

/** A collection's generations, oldest first; inside a transaction when given one. */
async function generationsIn(executor: SqlExecutor, tenantId: string, collection: string): Promise<GenerationRecord[]> {
  const rows = await executor.query<Record<string, unknown>>(
    'select * from collection_generations where tenant_id = $1 and collection = $2 order by generation',
    [tenantId, collection],
  );
  return rows.map(toGeneration);
}

/** Index generations of collections, and which document versions each one holds. */
export class GenerationStore {
  constructor(private readonly db: SqlDatabase) {}

  async list(tenantId: string, collection: string): Promise<GenerationRecord[]> {
    return generationsIn(this.db, tenantId, collection);
  }

  /** The generation serving a collection (none if the collection does not exist or is being deleted). */
  async live(tenantId: string, collection: string): Promise<GenerationRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>(
      `select g.* from collections c join collection_generations g on g.tenant_id = c.tenant_id and g.collection = c.name and g.generation = c.generation
       where c.tenant_id = $1 and c.name = $2 and c.deleted_at is null`,
      [tenantId, collection],
    );
    return row ? toGeneration(row) : null;
  }

  async get(tenantId: string, collection: string, generation: number): Promise<GenerationRecord | null> {
    return (await this.list(tenantId, collection)).find((g) => g.generation === generation) ?? null;
  }

  /** Where an upload must be indexed: the live generation first, then one being built. */
  async writeTargets(tenantId: string, collection: string): Promise<IndexTarget[]> {
    const all = await this.list(tenantId, collection);
    return [...all.filter((g) => g.state === 'live'), ...all.filter((g) => g.state === 'building')].map(targetOf);
  }

  /** Generations whose index still exists (deletions reach all of them). */
  async keptGenerations(tenantId: string, collection: string): Promise<IndexTarget[]> {
    return (await this.list(tenantId, collection)).filter((g) => KEPT_STATES.includes(g.state)).map(targetOf);
  }

  /**
   * Reserves the next generation for a re-index. One build per collection at a time: the
   * collection row lock makes the check and the insert one step.
   */
  async beginBuild(tenantId: string, collection: string, settings: GenerationSettings): Promise<{ from: GenerationRecord; to: GenerationRecord }> {
    return this.db.transaction(async (tx) => {
      const { live } = await this.lockForBuild(tx, tenantId, collection);
      const [{ next }] = (await tx.query<{ next: number }>(
        'select coalesce(max(generation), 0) + 1 as next from collection_generations where tenant_id = $1 and collection = $2',
        [tenantId, collection],
      )) as [{ next: number }];
      const [row] = await tx.query<Record<string, unknown>>(
        `insert into collection_generations (tenant_id, collection, generation, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, state, index_name)
         values ($1, $2, $3, $4, $5, $6, $7, 'building', $8) returning *`,
        [tenantId, collection, next, settings.embeddingModel, settings.dimensions, settings.chunking.chunkSizeTokens, settings.chunking.chunkOverlapTokens, spaceNameOf(settings.embeddingModel, settings.dimensions)],
      );
      return { from: live, to: toGeneration(row as Record<string, unknown>) };
    });
  }

  /** Reopens the newest retained generation for a rollback: it catches up, then swaps back in. */
  async beginRollback(tenantId: string, collection: string): Promise<{ from: GenerationRecord; to: GenerationRecord }> {
    return this.db.transaction(async (tx) => {
      const { live, all } = await this.lockForBuild(tx, tenantId, collection);
      const previous = all.filter((g) => g.state === 'retained').at(-1);
      if (!previous) throw new PlatformError('no_previous_generation', `collection ${collection} keeps no earlier generation to roll back to`, 409);
      await setState(tx, previous, 'building');
      return { from: live, to: { ...previous, state: 'building' } };
    });
  }

  /** Ends a build that will not go live: a rolled-back-to generation returns to retained, a new one is gone. */
  /**
   * Marks a building generation failed or cancelled (a rollback's target goes back to retained)
   * and answers whether it is now abandoned: false when it is live or retained, e.g. a swap that
   * won the race against a cancel. True again on a retry, so the caller can finish dropping it.
   */
  async abandonBuild(target: Pick<GenerationRecord, 'tenantId' | 'collection' | 'generation'>, outcome: 'failed' | 'cancelled', kind: 'reindex' | 'rollback'): Promise<boolean> {
    await this.db.query(
      `update collection_generations set state = $4, retired_at = now() where tenant_id = $1 and collection = $2 and generation = $3 and state = 'building'`,
      [target.tenantId, target.collection, target.generation, kind === 'rollback' ? 'retained' : outcome],
    );
    const [row] = await this.db.query<{ state: string }>(
      'select state from collection_generations where tenant_id = $1 and collection = $2 and generation = $3',
      [target.tenantId, target.collection, target.generation],
    );
    return row?.state === 'failed' || row?.state === 'cancelled';
  }

  /** Records that a generation holds a document version; false when the document was deleted meanwhile. */
  async recordIndexed(entry: IndexedDocument): Promise<boolean> {
    try {
      // Only a version no deletion covers: a deleted document stays as a tombstone.
      const rows = await this.db.query(
        `insert into generation_documents (tenant_id, collection, generation, document_id, version, chunk_count)
         select $1::text, $2::text, $3::int, $4::text, $5::int, $6::int where exists (
           select 1 from documents where tenant_id = $1 and document_id = $4 and deleted_at is null and $5 > coalesce(deleted_through, 0))
         on conflict (tenant_id, collection, generation, document_id, version) do update set chunk_count = excluded.chunk_count
         returning 1`,
        [entry.tenantId, entry.collection, entry.generation, entry.documentId, entry.version, entry.chunkCount],
      );
      return rows.length > 0;
    } catch (error) {
      if ((error as { code?: string }).code === '23503') return false; // foreign key: the document is gone
      throw error;
    }
  }

  /** The chunk count recorded for this version in this generation, or null if it does not hold it. */
  async heldChunks(entry: Omit<IndexedDocument, 'chunkCount'>): Promise<number | null> {
    const [row] = await this.db.query<{ chunk_count: number }>(
      'select chunk_count from generation_documents where tenant_id = $1 and collection = $2 and generation = $3 and document_id = $4 and version = $5',
      [entry.tenantId, entry.collection, entry.generation, entry.documentId, entry.version],
    );
    return row ? row.chunk_count : null;
  }

  /** A page of the collection's documents that have an active version, by document id. */
  async activeDocuments(tenantId: string, collection: string, options: { after?: string; limit: number }): Promise<ActiveDocument[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select d.document_id, d.active_version, v.sha256, v.media_type, coalesce(v.title, v.filename) as title, v.metadata
       from documents d join document_versions v on v.tenant_id = d.tenant_id and v.document_id = d.document_id and v.version = d.active_version
       where d.tenant_id = $1 and d.collection = $2 and d.document_id > $3 order by d.document_id limit $4`,
      [tenantId, collection, options.after ?? '', options.limit],
    );
    return rows.map((row) => ({
      documentId: row.document_id as string,
      version: row.active_version as number,
      sha256: row.sha256 as string,
      mediaType: row.media_type as MediaType,
      title: (row.title as string | null) ?? null,
      metadata: (row.metadata as Record<string, unknown>) ?? {},
    }));
  }

  async countActive(tenantId: string, collection: string): Promise<number> {
    const [row] = await this.db.query<{ n: string | number }>(
      'select count(*) as n from documents where tenant_id = $1 and collection = $2 and active_version is not null',
      [tenantId, collection],
    );
    return Number(row?.n ?? 0);
  }

  /** Active document versions this generation does not hold yet. */
  async missingFrom(tenantId: string, collection: string, generation: number, limit = 10_000): Promise<{ documentId: string; version: number }[]> {
    const rows = await this.db.query<{ document_id: string; active_version: number }>(
      `select d.document_id, d.active_version ${ACTIVE_NOT_HELD} order by d.document_id limit $4`,
      [tenantId, collection, generation, limit],
    );
    return rows.map((r) => ({ documentId: r.document_id, version: r.active_version }));
  }

  /** What the generation holds for the documents' active versions: the gate's expected counts. */
  async heldActive(tenantId: string, collection: string, generation: number): Promise<{ documentId: string; version: number; chunkCount: number }[]> {
    const rows = await this.db.query<{ document_id: string; version: number; chunk_count: number }>(
      `select g.document_id, g.version, g.chunk_count from generation_documents g
       join documents d on d.tenant_id = g.tenant_id and d.document_id = g.document_id and d.active_version = g.version
       where g.tenant_id = $1 and g.collection = $2 and g.generation = $3 order by g.document_id`,
      [tenantId, collection, generation],
    );
    return rows.map((r) => ({ documentId: r.document_id, version: r.version, chunkCount: r.chunk_count }));
  }

  /** Versions this generation holds that are no longer active (replaced while it was built). */
  async staleIn(tenantId: string, collection: string, generation: number): Promise<{ documentId: string; version: number }[]> {
    const rows = await this.db.query<{ document_id: string; version: number }>(
      `select g.document_id, g.version from generation_documents g
       join documents d on d.tenant_id = g.tenant_id and d.document_id = g.document_id
       where g.tenant_id = $1 and g.collection = $2 and g.generation = $3 and g.version < coalesce(d.active_version, 0)`,
      [tenantId, collection, generation],
    );
    return rows.map((r) => ({ documentId: r.document_id, version: r.version }));
  }

  async forgetIndexed(entry: Omit<IndexedDocument, 'chunkCount'>): Promise<void> {
    await this.db.query(
      'delete from generation_documents where tenant_id = $1 and collection = $2 and generation = $3 and document_id = $4 and version = $5',
      [entry.tenantId, entry.collection, entry.generation, entry.documentId, entry.version],
    );
  }

  /**
   * Makes the target generation live, in one transaction under the collection row lock (which
   * activations take too): only if it holds every active document version. The previous live
   * generation is retained; retained ones beyond `keepRetained` are dropped and returned, so
   * their indexes can be removed.
   */
  async swap(target: GenerationRecord, keepRetained: number): Promise<{ swapped: true; previous: GenerationRecord; dropped: GenerationRecord[] } | { swapped: false; missing: number }> {
    return this.db.transaction(async (tx) => {
      await tx.query('select 1 from collections where tenant_id = $1 and name = $2 for update', [target.tenantId, target.collection]);
      const [{ n }] = (await tx.query<{ n: string | number }>(`select count(*) as n ${ACTIVE_NOT_HELD}`, [target.tenantId, target.collection, target.generation])) as [
        { n: string | number },
      ];
      if (Number(n) > 0) return { swapped: false as const, missing: Number(n) };
      const all = await generationsIn(tx, target.tenantId, target.collection);
      const previous = all.find((g) => g.state === 'live');
      if (!previous) throw new Error(`collection ${target.collection} has no live generation`);
      await setState(tx, previous, 'retained');
      await setState(tx, target, 'live');
      await tx.query(
        `update collections set generation = $3, embedding_model = $4, dimensions = $5, chunk_size_tokens = $6, chunk_overlap_tokens = $7
         where tenant_id = $1 and name = $2`,
        [target.tenantId, target.collection, target.generation, target.embeddingModel, target.dimensions, target.chunking.chunkSizeTokens, target.chunking.chunkOverlapTokens],
      );
      // Newest retained first: the one just retired is always kept while keepRetained >= 1.
      const retained = [previous, ...all.filter((g) => g.state === 'retained' && g.generation !== previous.generation).sort((a, b) => b.generation - a.generation)];
      const dropped = retained.slice(Math.max(keepRetained, 0));
      for (const generation of dropped) await setState(tx, generation, 'dropped');
      await tx.query(
        'delete from generation_documents where tenant_id = $1 and collection = $2 and generation = any($3::int[])',
        [target.tenantId, target.collection, dropped.map((g) => g.generation)],
      );
      return { swapped: true as const, previous: { ...previous, state: 'retained' as const }, dropped };
    });
  }

  private async lockForBuild(tx: SqlExecutor, tenantId: string, collection: string): Promise<{ live: GenerationRecord; all: GenerationRecord[] }> {
    const [locked] = await tx.query('select 1 from collections where tenant_id = $1 and name = $2 for update', [tenantId, collection]);
    if (!locked) throw collectionNotFound(collection);
    const all = await generationsIn(tx, tenantId, collection);
    const building = all.find((g) => g.state === 'building');
    if (building) throw new PlatformError('reindex_in_progress', `generation ${building.generation} of ${collection} is being built; cancel it or wait`, 409);
    const live = all.find((g) => g.state === 'live');
    if (!live) throw new Error(`collection ${collection} has no live generation`);
    return { live, all };
  }
}

async function setState(tx: SqlExecutor, generation: Pick<GenerationRecord, 'tenantId' | 'collection' | 'generation'>, state: GenerationState): Promise<void> {
  await tx.query(
    `update collection_generations set state = $4, retired_at = case when $4 in ('live', 'building') then null else now() end
     where tenant_id = $1 and collection = $2 and generation = $3`,
    [generation.tenantId, generation.collection, generation.generation, state],
  );
}

export function targetOf(generation: GenerationRecord): IndexTarget {
  return {
    generation: generation.generation,
    indexName: generation.indexName ?? legacyIndexNameOf(generation.tenantId, generation.collection, generation.generation),
    embeddingModel: generation.embeddingModel,
    chunking: generation.chunking,
    shared: generation.indexName !== null,
  };
}

function toGeneration(row: Record<string, unknown>): GenerationRecord {
  return {
    tenantId: row.tenant_id as string,
    collection: row.collection as string,
    generation: row.generation as number,
    embeddingModel: row.embedding_model as string,
    dimensions: row.dimensions as number,
    chunking: { chunkSizeTokens: row.chunk_size_tokens as number, chunkOverlapTokens: row.chunk_overlap_tokens as number },
    state: row.state as GenerationState,
    createdAt: iso(row.created_at),
    retiredAt: row.retired_at ? iso(row.retired_at) : null,
    indexName: (row.index_name as string | null) ?? null,
  };
}
