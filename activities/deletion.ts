import { Context, heartbeat } from '@temporalio/activity';
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { workPrefix, type BlobStore } from '../lib/stores/blob-store';
import type { CollectionStore } from '../lib/stores/collection-store';
import type { GenerationStore } from '../lib/stores/generation-store';
import type { MetadataStore } from '../lib/stores/metadata-store';
import type { VectorIndex } from '../lib/stores/vector-index';

export interface DeletionDependencies {
  metadata: MetadataStore;
  collections: CollectionStore;
  generations: GenerationStore;
  index: VectorIndex;
  blobs: BlobStore;
  /** To cancel the document's ingestion runs and wait until they have stopped. */
  workflows: Pick<WorkflowClient, 'getHandle'>;
}

export interface DeleteDocumentInput {
  tenantId: string;
  documentId: string;
  workflowId: string;
  /** The latest version when the deletion was asked for: it removes that one and those before. */
  throughVersion: number;
}

export interface DeleteCollectionInput {
  tenantId: string;
  collection: string;
  workflowId: string;
}

export interface DocumentDeletion {
  tenantId: string;
  documentId: string;
  collection: string;
  throughVersion: number;
  /** Ingestion runs that may still be writing. */
  runs: string[];
}

const FINISHED = new Set(['ready', 'failed', 'superseded']);
const POLL_MS = 500;
/** Documents purged per page of a collection's deletion, heartbeating between them. */
const PURGE_PAGE = 200;

export function createDeletionActivities({ metadata, collections, generations, index, blobs, workflows }: DeletionDependencies) {
  /** A document's deleted versions, their scratch files, and the bytes no other version references. */
  async function purgeVersions(input: { tenantId: string; documentId: string; throughVersion: number }): Promise<number> {
    const hashes = await metadata.purgeVersions(input.tenantId, input.documentId, input.throughVersion);
    for (let version = 1; version <= input.throughVersion; version++) await blobs.remove(workPrefix({ ...input, version }));
    let removed = 0;
    for (const sha256 of hashes) {
      if (await metadata.isBlobReferenced(sha256)) continue;
      await blobs.remove(blobs.rawKey(sha256));
      removed++;
    }
    return removed;
  }

  return {
    /** The tombstone (the API usually set it already; idempotent), and what the deletion must stop and remove. */
    async beginDocumentDeletion(input: DeleteDocumentInput): Promise<DocumentDeletion | null> {
      const tombstone = await metadata.tombstoneDocument(input.tenantId, input.documentId, input.workflowId, input.throughVersion);
      if (!tombstone) return null;
      const runs = tombstone.versions.filter((v) => !FINISHED.has(v.stage)).map((v) => v.workflowId);
      return { tenantId: input.tenantId, documentId: input.documentId, collection: tombstone.collection, throughVersion: tombstone.throughVersion, runs };
    },

    /**
     * Cancels each run and waits until it has closed: a cancelled ingestion removes what it wrote
     * before it closes, so cleanup starts only once no writer is left. Heartbeats while it waits.
     */
    async stopIngestionRuns(input: { runs: string[] }): Promise<{ stopped: number }> {
      const signal = Context.current().cancellationSignal;
      let stopped = 0;
      for (const id of input.runs) {
        const handle = workflows.getHandle(id);
        try {
          await handle.cancel();
          while ((await handle.describe()).status.name === 'RUNNING') {
            heartbeat({ waitingFor: id });
            await new Promise((resolve) => setTimeout(resolve, POLL_MS));
            if (signal.aborted) throw signal.reason;
          }
          stopped++;
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
      }
      return { stopped };
    },

    /** Points of the deleted versions in every generation that has an index, then their records, scratch files and unshared bytes. */
    async purgeDocument(input: DocumentDeletion): Promise<{ blobsRemoved: number }> {
      const filter = { tenantId: input.tenantId, collection: input.collection, documentId: input.documentId, versionBelow: input.throughVersion + 1 };
      for (const target of await generations.keptGenerations(input.tenantId, input.collection)) await index.deletePoints(target.indexName, filter);
      return { blobsRemoved: await purgeVersions(input) };
    },

    /** The collection's tombstone (idempotent), and the runs that may still write into it. Null: no such collection. */
    async beginCollectionDeletion(input: DeleteCollectionInput): Promise<{ runs: string[] } | null> {
      const tombstone = await collections.tombstone(input.tenantId, input.collection, input.workflowId);
      if (!tombstone) return null;
      return { runs: await collections.runsInFlight(input.tenantId, input.collection) };
    },

    /**
     * Every point of the collection in every generation it kept (a filtered delete in a shared
     * space, a legacy index dropped whole), then each document's versions and unshared bytes,
     * then the generations and labeled questions. Each step is idempotent: a retry resumes.
     */
    async purgeCollection(input: DeleteCollectionInput): Promise<{ documents: number; blobsRemoved: number }> {
      const scope = { tenantId: input.tenantId, collection: input.collection };
      for (const target of await generations.keptGenerations(input.tenantId, input.collection)) {
        if (target.shared) await index.deletePoints(target.indexName, scope);
        else await index.dropSpace(target.indexName);
      }
      let documents = 0;
      let blobsRemoved = 0;
      for (let after = ''; ; ) {
        const page = await collections.deletedDocuments(input.tenantId, input.collection, after, PURGE_PAGE);
        for (const doc of page) {
          blobsRemoved += await purgeVersions({ tenantId: input.tenantId, ...doc });
          documents++;
          heartbeat({ documents });
        }
        if (page.length < PURGE_PAGE) break;
        after = (page.at(-1) as { documentId: string }).documentId;
      }
      await collections.finishPurge(input.tenantId, input.collection);
      return { documents, blobsRemoved };
    },
  };
}

export type DeletionActivities = ReturnType<typeof createDeletionActivities>;
