import { collectionNotFound } from '../../lib/stores/collection-store';
import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PlatformError } from '../../lib/errors';
import { assertChunkingFits } from '../../lib/ingest/chunk';
import type { Platform } from '../../lib/platform';
import { FINISHED_STAGES, reindexWorkflowId, REINDEX_TASK_QUEUE, type GateSettings, type ReindexInput, type ReindexKind } from '../../lib/reindex/types';
import { runSearchAttributes } from '../../lib/search-attributes';
import { targetOf, type GenerationRecord } from '../../lib/stores/generation-store';
import type { ReindexRunRecord, RunError } from '../../lib/stores/reindex-run-store';
import type { LabeledQuestion } from '../../lib/stores/eval-set-store';
import { pauseReindexUpdate, resumeReindexUpdate, type reindexCollectionWorkflow } from '../../workflows';
import { promptly } from './orchestrator-unavailable';
import { tenantPriority } from '../../lib/temporal/priority';

export interface ReindexRequest {
  tenantId: string;
  collection: string;
  embeddingModel?: string;
  chunkSizeTokens?: number;
  chunkOverlapTokens?: number;
  gate?: Partial<GateSettings>;
}

export interface ReindexRunView extends ReindexRunRecord {
  errors: { total: number; first: RunError[] };
  /** Seconds left at the rate so far; null before the first documents or once finished. */
  etaSeconds: number | null;
}

/** Starts, steers and reports re-index and rollback runs; the workflow does the work. */
export class ReindexService {
  constructor(
    private readonly platform: Platform,
    private readonly temporal: Client,
  ) {}

  /** Unspecified settings keep the live generation's: a re-index changes what it names. */
  async startReindex(request: ReindexRequest, requestedBy: string | null = null): Promise<ReindexRunRecord> {
    const { tenantId, collection: name } = request;
    const collection = await this.requireCollection(tenantId, name);
    const embeddingModel = request.embeddingModel ?? collection.embeddingModel;
    const embedder = await this.platform.embedders.get(embeddingModel);
    const chunking = {
      chunkSizeTokens: request.chunkSizeTokens ?? Math.min(collection.chunkSizeTokens, embedder.maxInputTokens),
      chunkOverlapTokens: request.chunkOverlapTokens ?? collection.chunkOverlapTokens,
    };
    assertChunkingFits(chunking, embedder);
    const { from, to } = await this.platform.generations.beginBuild(tenantId, name, { embeddingModel, dimensions: embedder.dimensions, chunking });
    return this.launch('reindex', from, to, requestedBy, request.gate);
  }

  async startRollback(tenantId: string, name: string, requestedBy: string | null = null): Promise<ReindexRunRecord> {
    await this.requireCollection(tenantId, name);
    const { from, to } = await this.platform.generations.beginRollback(tenantId, name);
    return this.launch('rollback', from, to, requestedBy);
  }

  async get(tenantId: string, collection: string, runId: string): Promise<ReindexRunView> {
    const run = await this.requireRun(tenantId, collection, runId);
    const errors = await this.platform.reindexRuns.errors(run.id, 20);
    return { ...run, errors, etaSeconds: etaSeconds(run) };
  }

  async list(tenantId: string, collection: string): Promise<ReindexRunRecord[]> {
    await this.requireCollection(tenantId, collection);
    return this.platform.reindexRuns.list(tenantId, collection);
  }

  /**
   * Pause and resume are Updates: the run's validator refuses what cannot apply (409 with its code:
   * already paused, not paused, finished), and the answer shows the state after the change. The
   * run holds between batches and before the swap.
   */
  async signal(tenantId: string, collection: string, runId: string, action: 'pause' | 'resume'): Promise<ReindexRunView> {
    const run = await this.requireActive(tenantId, collection, runId);
    const update = action === 'pause' ? pauseReindexUpdate : resumeReindexUpdate;
    const after = await promptly(this.temporal, () => this.temporal.workflow.getHandle(run.workflowId).executeUpdate(update)).catch(updateRefused);
    const view = await this.get(tenantId, collection, runId);
    return { ...view, paused: after.paused };
  }

  /**
   * The run removes the half-built generation itself on its way out. Once it swaps, the new
   * generation serves and a cancel is too late (a rollback undoes it); a cancel that reaches the
   * run during the swap leaves it to finish, and the answer shows the stage it reached.
   */
  async cancel(tenantId: string, collection: string, runId: string): Promise<ReindexRunView> {
    const run = await this.requireActive(tenantId, collection, runId);
    if (run.stage === 'swapping') throw new PlatformError('reindex_swapping', `run ${runId} is swapping to generation ${run.toGeneration}; roll back once it is done`, 409);
    await promptly(this.temporal, () => this.temporal.workflow.getHandle(run.workflowId).cancel()).catch(orchestratorError);
    return this.get(tenantId, collection, runId);
  }

  async setEvalSet(tenantId: string, collection: string, questions: LabeledQuestion[]): Promise<LabeledQuestion[]> {
    await this.requireCollection(tenantId, collection);
    await this.platform.evalSets.replace(tenantId, collection, questions);
    return questions;
  }

  async getEvalSet(tenantId: string, collection: string): Promise<LabeledQuestion[]> {
    await this.requireCollection(tenantId, collection);
    return this.platform.evalSets.get(tenantId, collection);
  }

  private async launch(kind: ReindexKind, from: GenerationRecord, to: GenerationRecord, requestedBy: string | null, gate: Partial<GateSettings> = {}): Promise<ReindexRunRecord> {
    const { config, reindexRuns, generations } = this.platform;
    const runId = `rx_${randomBytes(6).toString('hex')}`;
    const workflowId = reindexWorkflowId(to.tenantId, to.collection, runId);
    await reindexRuns.create({ id: runId, tenantId: to.tenantId, collection: to.collection, kind, fromGeneration: from.generation, toGeneration: to.generation, workflowId, requestedBy });
    const input: ReindexInput = {
      runId,
      kind,
      tenantId: to.tenantId,
      collection: to.collection,
      fromGeneration: from.generation,
      target: targetOf(to),
      batchSize: config.REINDEX_BATCH_SIZE,
      batchesPerRun: config.REINDEX_BATCHES_PER_RUN,
      batchesInFlight: config.REINDEX_BATCHES_IN_FLIGHT,
      heartbeatTimeoutMs: config.ACTIVITY_HEARTBEAT_TIMEOUT_MS,
      gate: { k: gate.k ?? config.REINDEX_GATE_K, recallMargin: gate.recallMargin ?? config.REINDEX_RECALL_MARGIN },
    };
    const { chunkSizeTokens, chunkOverlapTokens } = to.chunking;
    try {
      await promptly(this.temporal, () => this.temporal.workflow.start<typeof reindexCollectionWorkflow>('reindexCollectionWorkflow', {
        taskQueue: REINDEX_TASK_QUEUE,
        workflowId,
        args: [input],
        priority: tenantPriority(to.tenantId, 'reindex'),
        staticSummary: `${kind === 'rollback' ? 'Roll back' : 'Re-index'} ${to.collection}: g${from.generation} → g${to.generation}`,
        staticDetails: `chunks of ${chunkSizeTokens} tokens overlapping by ${chunkOverlapTokens}, model ${to.embeddingModel}, tenant ${to.tenantId}`,
        ...(config.TEMPORAL_SEARCH_ATTRIBUTES === 'on' && {
          typedSearchAttributes: runSearchAttributes({ tenantId: to.tenantId, collection: to.collection, generation: to.generation, stage: 'queued' }),
        }),
      }));
    } catch {
      // Nothing was started: release the generation so the collection can be re-indexed again.
      await generations.abandonBuild(to, 'failed', kind);
      await reindexRuns.update(runId, { stage: 'failed', finished: true });
      throw new PlatformError('orchestrator_unavailable', 'the workflow service could not be reached; nothing was started', 503);
    }
    return (await reindexRuns.get(to.tenantId, to.collection, runId)) as ReindexRunRecord;
  }

  private async requireCollection(tenantId: string, name: string) {
    const collection = await this.platform.metadata.getCollection(tenantId, name);
    if (!collection) throw collectionNotFound(name);
    return collection;
  }

  private async requireRun(tenantId: string, collection: string, runId: string): Promise<ReindexRunRecord> {
    const run = await this.platform.reindexRuns.get(tenantId, collection, runId);
    if (!run) throw new PlatformError('reindex_not_found', `no re-index run ${runId} in collection ${collection}`, 404);
    return run;
  }

  private async requireActive(tenantId: string, collection: string, runId: string): Promise<ReindexRunRecord> {
    const run = await this.requireRun(tenantId, collection, runId);
    if (FINISHED_STAGES.includes(run.stage)) throw new PlatformError('reindex_finished', `run ${runId} has finished (${run.stage})`, 409);
    return run;
  }
}

function etaSeconds(run: ReindexRunRecord): number | null {
  if (run.finishedAt || run.documentsTotal === null || run.documentsDone === 0) return null;
  const elapsed = (Date.now() - Date.parse(run.startedAt)) / 1000;
  const remaining = Math.max(run.documentsTotal - run.documentsDone, 0);
  return Math.round((elapsed / run.documentsDone) * remaining);
}

function updateRefused(error: unknown): never {
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type) throw new PlatformError(cause.type, cause.message, 409);
  return orchestratorError(error);
}

function orchestratorError(error: unknown): never {
  if (error instanceof WorkflowNotFoundError) throw new PlatformError('reindex_finished', 'the run is no longer running', 409);
  throw new PlatformError('orchestrator_unavailable', 'the workflow service could not be reached', 503);
}
