import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { PlatformError } from '../../lib/errors';
import { assertChunkingFits, defaultChunking } from '../../lib/ingest/chunk';
import { deleteCollectionWorkflowId, TASK_QUEUES } from '../../lib/ingest/types';
import type { Platform } from '../../lib/platform';
import { collectionNotFound, type CollectionSettings, type CollectionSummary, type QueryAdmission } from '../../lib/stores/collection-store';
import type { GenerationRecord } from '../../lib/stores/generation-store';
import type { FilterableType } from '../../lib/stores/vector-index';
import type { deleteCollectionWorkflow } from '../../workflows';
import { orchestratorUnavailable, promptly } from './orchestrator-unavailable';
import { tenantPriority } from '../../lib/temporal/priority';

export interface NewCollection {
  tenantId: string;
  name: string;
  embeddingModel?: string;
  chunkSizeTokens?: number;
  chunkOverlapTokens?: number;
  filterableKeys?: Record<string, FilterableType>;
  relevanceFloor?: number;
}

export interface CollectionDetail extends CollectionSummary {
  generations: GenerationRecord[];
  evalQuestions: number;
}

export interface CollectionDeletion {
  collection: string;
  workflowId: string;
  deletedAt: string;
  status: 'running' | 'completed' | 'failed';
}

/** Collections as tenants manage them: create with settings, list with counts, change, delete durably. */
export class CollectionService {
  constructor(
    private readonly platform: Platform,
    private readonly temporal: Client,
  ) {}

  list(tenantId: string): Promise<CollectionSummary[]> {
    return this.platform.collections.list(tenantId);
  }

  async get(tenantId: string, name: string): Promise<CollectionDetail> {
    const summary = await this.platform.collections.get(tenantId, name);
    if (!summary) throw collectionNotFound(name);
    const [generations, questions] = await Promise.all([this.platform.generations.list(tenantId, name), this.platform.evalSets.get(tenantId, name)]);
    return { ...summary, generations, evalQuestions: questions.length };
  }

  /** Unspecified settings are the deployment's defaults; declared filterable keys get payload indexes now. */
  async create(request: NewCollection): Promise<CollectionDetail> {
    const { config, embedders } = this.platform;
    const modelId = request.embeddingModel ?? embedders.primary.modelId;
    if (!embedders.has(modelId)) throw new PlatformError('embedding_model_unavailable', `this deployment cannot run ${modelId}; it runs ${embedders.available().join(', ')}`, 422);
    const embedder = await embedders.get(modelId);
    const defaults = defaultChunking(config, embedder.maxInputTokens);
    const chunkSizeTokens = request.chunkSizeTokens ?? defaults.chunkSizeTokens;
    // A small chunk size given alone gets an overlap that fits it.
    const chunkOverlapTokens = request.chunkOverlapTokens ?? Math.min(defaults.chunkOverlapTokens, Math.floor(chunkSizeTokens / 2));
    const chunking = { chunkSizeTokens, chunkOverlapTokens };
    assertChunkingFits(chunking, embedder);
    const settings: CollectionSettings = { relevanceFloor: request.relevanceFloor ?? null, filterableKeys: request.filterableKeys ?? null };
    const collection = await this.platform.collections.create(
      { tenantId: request.tenantId, name: request.name, embeddingModel: modelId, dimensions: embedder.dimensions, ...chunking, generation: 1 },
      settings,
    );
    await this.indexFilterableKeys(request.tenantId, collection.name, settings.filterableKeys);
    return this.get(request.tenantId, collection.name);
  }

  async update(tenantId: string, name: string, patch: Partial<CollectionSettings>): Promise<CollectionDetail> {
    await this.platform.collections.updateSettings(tenantId, name, patch);
    if (patch.filterableKeys) await this.indexFilterableKeys(tenantId, name, patch.filterableKeys);
    return this.get(tenantId, name);
  }

  /**
   * Starts the collection's deletion run, then tombstones the collection (queries and uploads stop
   * at once) and answers with the run; a second DELETE answers with the same run. With the
   * orchestrator out of reach nothing changes: 503.
   */
  async delete(tenantId: string, name: string): Promise<CollectionDeletion> {
    const { collections } = this.platform;
    const under = await collections.deletion(tenantId, name);
    if (under && !under.purged) return this.deletion(tenantId, name);
    if (!(await collections.get(tenantId, name))) throw collectionNotFound(name);
    const workflowId = deleteCollectionWorkflowId(tenantId, name, randomBytes(6).toString('hex'));
    try {
      await promptly(this.temporal, () => this.temporal.workflow.start<typeof deleteCollectionWorkflow>('deleteCollectionWorkflow', {
        taskQueue: TASK_QUEUES.ingest,
        workflowId,
        args: [{ tenantId, collection: name, workflowId }],
        priority: tenantPriority(tenantId, 'document'),
        staticSummary: `Delete collection ${name} of tenant ${tenantId}`,
      }));
    } catch (error) {
      throw orchestratorUnavailable(error, 'the collection is unchanged; send the DELETE again to retry');
    }
    const tombstone = await collections.tombstone(tenantId, name, workflowId);
    if (!tombstone) throw collectionNotFound(name);
    return { collection: name, workflowId: tombstone.workflowId, deletedAt: tombstone.deletedAt, status: 'running' };
  }

  async deletion(tenantId: string, name: string): Promise<CollectionDeletion> {
    const tombstone = await this.platform.collections.deletion(tenantId, name);
    if (!tombstone) throw new PlatformError('deletion_not_found', `collection ${name} is not being or has not been deleted`, 404);
    const base = { collection: name, workflowId: tombstone.workflowId, deletedAt: tombstone.deletedAt };
    if (tombstone.purged) return { ...base, status: 'completed' };
    try {
      const run = await promptly(this.temporal, () => this.temporal.workflow.getHandle(tombstone.workflowId).describe());
      return { ...base, status: run.status.name === 'RUNNING' ? 'running' : run.status.name === 'COMPLETED' ? 'completed' : 'failed' };
    } catch (error) {
      throw orchestratorUnavailable(error, 'the deletion status cannot be read now; it goes on');
    }
  }

  /**
   * What a question needs before any work: the collection exists (a plain 404, also for streamed
   * answers), its filters name keys it knows (400 with the known keys), and its relevance floor.
   */
  async admitQuery(tenantId: string, name: string, filters: Record<string, unknown>): Promise<QueryAdmission> {
    const admission = await this.platform.collections.admission(tenantId, name);
    if (!admission) throw collectionNotFound(name);
    const unknown = Object.keys(filters).filter((key) => !admission.filterKeys.includes(key));
    if (unknown.length > 0) {
      throw new PlatformError(
        'unknown_filter_key',
        `collection ${name} has no metadata key ${unknown.map((k) => `"${k}"`).join(', ')}; filters may name ${admission.filterKeys.length ? admission.filterKeys.join(', ') : 'no key yet (no document has metadata)'}`,
        400,
        { unknown, known: admission.filterKeys },
      );
    }
    return admission;
  }

  /** Payload indexes for declared keys in every space the collection's kept generations live in. */
  private async indexFilterableKeys(tenantId: string, name: string, keys: Record<string, FilterableType> | null): Promise<void> {
    if (!keys || Object.keys(keys).length === 0) return;
    for (const target of await this.platform.generations.keptGenerations(tenantId, name)) {
      if (!target.shared) continue;
      const { dimensions } = await this.platform.embedders.get(target.embeddingModel);
      await this.platform.index.ensureSpace(target.indexName, { dimensions });
      await this.platform.index.ensureFilterable(target.indexName, keys);
    }
  }
}
