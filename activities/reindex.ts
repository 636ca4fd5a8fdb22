import { createHash } from 'node:crypto';
import { activityInfo, ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import { recallAt } from '../lib/eval/retrieval-metrics';
import type { CpuPool } from '../lib/ingest/cpu-pool';
import type { IndexTarget } from '../lib/ingest/types';
import type { EmbedderRegistry } from '../lib/models/embedder-registry';
import { searchGeneration } from '../lib/query/hybrid-search';
import { compareRecall, decideGate } from '../lib/reindex/gate';
import type { GateReport, ReindexBatchInput, ReindexBatchResult, ReindexInput, RecallComparison } from '../lib/reindex/types';
import type { BlobStore } from '../lib/stores/blob-store';
import type { DeploymentStore } from '../lib/stores/deployment-store';
import type { EvalSetStore } from '../lib/stores/eval-set-store';
import { targetOf, type GenerationStore } from '../lib/stores/generation-store';
import type { MetadataStore } from '../lib/stores/metadata-store';
import type { ReindexRunStore, RunProgressUpdate } from '../lib/stores/reindex-run-store';
import type { VectorIndex } from '../lib/stores/vector-index';
import { chunkText, dropGeneration, embedChecked, inTarget, parseText, toPoint } from './indexing';
import type { UsageRecorder } from './usage';

export interface ReindexDependencies {
  metadata: MetadataStore;
  generations: GenerationStore;
  runs: ReindexRunStore;
  evalSets: EvalSetStore;
  blobs: BlobStore;
  index: VectorIndex;
  embedders: EmbedderRegistry;
  embedBatchSize: number;
  /** Earlier generations kept after a swap. */
  retainGenerations: number;
  cpu: CpuPool;
  /** Re-embedding goes into the usage ledger, charged to the tenant (no key: an operator's run). */
  usage?: UsageRecorder;
  /** Where a finished run's swap, rollback or refused gate is kept as deployment evidence, stamped with this commit. */
  evidence?: { deployments: DeploymentStore; platformCommit: string };
}

type DocumentResult = { outcome: 'indexed'; chunks: number } | { outcome: 'already_indexed' | 'gone'; chunks: number } | { outcome: 'failed'; chunks: 0; code: string; message: string };

export function createReindexActivities(deps: ReindexDependencies) {
  const { metadata, generations, runs, evalSets, blobs, index, embedders } = deps;

  /**
   * Rebuilds one document's active version into the target generation from its stored raw
   * bytes (never from old chunks: the point is new chunking or a new model).
   */
  async function reindexDocument(batch: ReindexBatchInput, documentId: string, keepAlive: () => void): Promise<DocumentResult> {
    const { target, tenantId, collection } = batch;
    const doc = await metadata.getDocument(tenantId, documentId);
    if (!doc) {
      // Deleted: an earlier attempt, cut short (a killed worker, a count that a concurrent delete
      // made wrong), may have written points that no record names; they must not outlive it.
      await index.deletePoints(target.indexName, inTarget(target, { tenantId, collection, documentId }));
      return { outcome: 'gone', chunks: 0 };
    }
    const version = doc.versions.find((v) => v.version === doc.activeVersion);
    if (!version) return { outcome: 'gone', chunks: 0 };
    // Likewise points of a version replaced while an earlier attempt wrote it: the activation of
    // the newer one may have removed them before that attempt finished writing.
    if (doc.versions.some((v) => v.version < version.version)) await index.deletePoints(target.indexName, inTarget(target, { tenantId, collection, documentId, versionBelow: version.version }));
    const ref = { tenantId, collection, generation: target.generation, documentId, version: version.version };
    const held = await generations.heldChunks(ref);
    if (held !== null) return { outcome: 'already_indexed', chunks: held };

    const rawKey = blobs.rawKey(version.sha256);
    if (!(await blobs.exists(rawKey))) return { outcome: 'failed', chunks: 0, code: 'raw_document_missing', message: `the stored bytes of ${documentId} v${version.version} are missing` };
    const embedder = await embedders.get(target.embeddingModel);
    let chunks;
    try {
      const bytes = new Uint8Array(await blobs.get(rawKey));
      const parsed = await parseText(deps.cpu, bytes, version.mediaType);
      chunks = await chunkText(deps.cpu, parsed, version.mediaType, target, embedder);
    } catch (error) {
      if (error instanceof ApplicationFailure && error.nonRetryable) return { outcome: 'failed', chunks: 0, code: error.type ?? 'parse_failed', message: error.message };
      throw error;
    }
    const source = { ...ref, title: version.title ?? version.filename, metadata: version.metadata };
    for (let start = 0; start < chunks.length; start += deps.embedBatchSize) {
      const slice = chunks.slice(start, start + deps.embedBatchSize);
      const vectors = await embedChecked(embedder, slice.map((c) => c.text));
      await index.upsert(target.indexName, slice.map((chunk, i) => toPoint(target, source, chunk, vectors[i] as number[])));
      keepAlive();
    }
    const points = await index.count(target.indexName, inTarget(target, { tenantId, collection, documentId, version: version.version }));
    if (points !== chunks.length) throw ApplicationFailure.retryable(`index holds ${points} points for ${chunks.length} chunks of ${documentId}`, 'index_count_mismatch');
    if (!(await generations.recordIndexed({ ...ref, chunkCount: chunks.length }))) {
      // Deleted while we worked: its points must not outlive it.
      await index.deletePoints(target.indexName, inTarget(target, { tenantId, collection, documentId }));
      return { outcome: 'gone', chunks: 0 };
    }
    return { outcome: 'indexed', chunks: chunks.length };
  }

  /** Recall@k of one generation over the labeled questions, per question, at the document level. */
  async function recallOf(input: ReindexInput, target: IndexTarget, questions: Awaited<ReturnType<EvalSetStore['get']>>): Promise<number[]> {
    const embedder = await embedders.get(target.embeddingModel);
    const recalls: number[] = [];
    for (const labeled of questions) {
      const { chunks } = await searchGeneration(
        { index, metadata },
        { target, embedder, tenantId: input.tenantId, collection: input.collection, question: labeled.question, topK: input.gate.k },
      );
      recalls.push(recallAt(input.gate.k, [...new Set(chunks.map((c) => c.documentId))], new Set(labeled.relevantDocumentIds)));
      heartbeat();
    }
    return recalls;
  }

  /** A generation swap is a deployment: what swapped (or was refused), the gate's report, who asked. */
  async function recordSwapEvidence(runId: string, stage: 'done' | 'gate_failed', report: GateReport): Promise<void> {
    if (!deps.evidence) return;
    const run = await runs.byId(runId);
    if (!run) return;
    const target = await generations.get(run.tenantId, run.collection, run.toGeneration);
    // What a generation is: the configuration its chunks were built with.
    const settings = target && { embeddingModel: target.embeddingModel, dimensions: target.dimensions, chunking: target.chunking };
    await deps.evidence.deployments.recordOnce({
      kind: 'generation_swap',
      target: `${run.tenantId}/${run.collection}`,
      fromVersion: String(run.fromGeneration),
      toVersion: String(run.toGeneration),
      decision: stage === 'gate_failed' ? 'refused' : run.kind === 'rollback' ? 'rolled_back' : 'promoted',
      platformCommit: deps.evidence.platformCommit,
      configHash: createHash('sha256').update(JSON.stringify(settings ?? null)).digest('hex'),
      report,
      approvedBy: run.requestedBy,
      reason: `${run.kind} run ${run.id}`,
      workflowId: run.workflowId,
    });
  }

  return {
    /** Creates the target generation's index; from here on uploads reach it too. */
    async prepareTarget(input: ReindexInput): Promise<{ documentsTotal: number }> {
      const embedder = await embedders.get(input.target.embeddingModel);
      await index.ensureSpace(input.target.indexName, { dimensions: embedder.dimensions });
      const documentsTotal = await generations.countActive(input.tenantId, input.collection);
      await runs.update(input.runId, { documentsTotal });
      return { documentsTotal };
    },

    /** The next page of documents to rebuild, by id: a cursor that survives continue-as-new. */
    async listDocumentPage(input: { tenantId: string; collection: string; after: string; limit: number }): Promise<string[]> {
      const page = await generations.activeDocuments(input.tenantId, input.collection, { after: input.after, limit: input.limit });
      return page.map((d) => d.documentId);
    },

    /**
     * Rebuilds a batch, heartbeating after each document: a retry (a killed worker) resumes at the
     * heartbeat cursor, and a document the generation already holds is skipped either way.
     * Documents that cannot be rebuilt are recorded as the run's errors; the gate then fails.
     */
    async reindexDocuments(batch: ReindexBatchInput): Promise<ReindexBatchResult> {
      const result: ReindexBatchResult = { indexed: 0, alreadyIndexed: 0, gone: 0, failed: 0, chunks: 0 };
      const resumeAt = (activityInfo().heartbeatDetails as { next?: number } | undefined)?.next ?? 0;
      for (const [position, documentId] of batch.documentIds.entries()) {
        if (position < resumeAt) {
          result.alreadyIndexed++;
          continue;
        }
        const rebuild = () => reindexDocument(batch, documentId, () => heartbeat({ next: position }));
        const context = { tenantId: batch.tenantId, collection: batch.collection, keyId: null, requestId: null };
        const done = deps.usage ? await deps.usage.embeddingsOf(context, 'reindex', rebuild) : await rebuild();
        if (done.outcome === 'failed') {
          log.warn('document not re-indexed', { documentId, code: done.code });
          await runs.recordError(batch.runId, { documentId, code: done.code, message: done.message });
        }
        result[({ indexed: 'indexed', already_indexed: 'alreadyIndexed', gone: 'gone', failed: 'failed' } as const)[done.outcome]]++;
        result.chunks += done.chunks;
        if (done.outcome === 'indexed' || done.outcome === 'already_indexed') await runs.advance(batch.runId, { documents: 1, chunks: done.chunks });
        heartbeat({ next: position + 1 });
      }
      return result;
    },

    /**
     * Catch-up after the pass over all documents: versions replaced meanwhile leave the target,
     * and the documents it does not hold yet (uploaded or replaced during the pass) are returned,
     * except those the run could not rebuild. With a page, at most `limit` of them, and `more`
     * says whether others are missing too: a busy collection never puts an unbounded list into
     * the run's history.
     */
    async sweepTarget(input: ReindexInput, page?: { limit: number }): Promise<{ missing: string[]; removedStale: number; more?: boolean }> {
      const stale = await generations.staleIn(input.tenantId, input.collection, input.target.generation);
      for (const entry of stale) {
        await index.deletePoints(input.target.indexName, inTarget(input.target, { tenantId: input.tenantId, collection: input.collection, documentId: entry.documentId, version: entry.version }));
        await generations.forgetIndexed({ tenantId: input.tenantId, collection: input.collection, generation: input.target.generation, ...entry });
      }
      // Documents this run already failed on stay failed (the gate reports them); new uploads of
      // them reach this generation through ingestion anyway.
      const failed = new Set((await runs.errors(input.runId, Number.MAX_SAFE_INTEGER)).first.map((e) => e.documentId));
      const fetched = await generations.missingFrom(input.tenantId, input.collection, input.target.generation, page ? page.limit + failed.size + 1 : undefined);
      const missing = fetched.map((m) => m.documentId).filter((id) => !failed.has(id));
      if (!page) return { missing, removedStale: stale.length };
      return { missing: missing.slice(0, page.limit), removedStale: stale.length, more: missing.length > page.limit };
    },

    /**
     * Checks the target before it may serve: every active document present with as many points
     * as it has chunks, and, where the collection has labeled questions, recall@k no worse than
     * the live generation's by more than the margin. A rollback skips the recall comparison: an
     * operator going back has already judged the newer generation.
     */
    async gateTarget(input: ReindexInput): Promise<GateReport> {
      const { tenantId, collection, target } = input;
      const expected = await generations.countActive(tenantId, collection);
      const held = await generations.heldActive(tenantId, collection, target.generation);
      const missing = (await generations.missingFrom(tenantId, collection, target.generation, 50)).map((m) => m.documentId);
      const wrongChunkCount: GateReport['documents']['wrongChunkCount'] = [];
      for (const entry of held) {
        const found = await index.count(target.indexName, inTarget(target, { tenantId, collection, documentId: entry.documentId, version: entry.version }));
        if (found !== entry.chunkCount) wrongChunkCount.push({ documentId: entry.documentId, expected: entry.chunkCount, found });
        heartbeat();
      }
      let recall: RecallComparison | null = null;
      // Recall needs documents to find: questions labeled unanswerable gate answers, not an index.
      const questions = (await evalSets.get(tenantId, collection)).filter((q) => q.relevantDocumentIds.length > 0);
      const live = (await generations.list(tenantId, collection)).find((g) => g.state === 'live');
      if (input.kind === 'reindex' && questions.length > 0 && live) {
        // The eval questions are embedded for both generations: that spend is the run's too.
        const compare = async () => compareRecall(input.gate.k, await recallOf(input, targetOf(live), questions), await recallOf(input, target, questions), input.gate.recallMargin);
        recall = deps.usage ? await deps.usage.embeddingsOf({ tenantId, collection, keyId: null, requestId: null }, 'reindex', compare) : await compare();
      }
      return decideGate({ expected, present: held.length, missing, wrongChunkCount, recall });
    },

    /**
     * Makes the target live: one transaction, which refuses if an active version slipped past the
     * catch-up. Postgres is the only record of which generation serves: queries read it there.
     * Generations retained beyond the limit are dropped, their points with them.
     */
    async swapTarget(input: ReindexInput): Promise<{ swapped: boolean; missing: number }> {
      const target = await generations.get(input.tenantId, input.collection, input.target.generation);
      if (!target) throw ApplicationFailure.nonRetryable(`generation ${input.target.generation} of ${input.collection} does not exist`, 'generation_missing');
      if (target.state !== 'live') {
        const swap = await generations.swap(target, deps.retainGenerations);
        if (!swap.swapped) return { swapped: false, missing: swap.missing };
        for (const dropped of swap.dropped) await dropGeneration(index, targetOf(dropped), input);
      }
      return { swapped: true, missing: 0 };
    },

    /**
     * A run that will not swap: a new generation's index goes; a rollback's target is kept again.
     * A target that went live (the swap finished before a cancel reached the run) keeps its index.
     */
    async abandonTarget(input: ReindexInput, outcome: 'failed' | 'cancelled'): Promise<void> {
      const abandoned = await generations.abandonBuild({ tenantId: input.tenantId, collection: input.collection, generation: input.target.generation }, outcome, input.kind);
      if (abandoned && input.kind === 'reindex') await dropGeneration(index, input.target, input);
    },

    async recordRun(runId: string, update: RunProgressUpdate): Promise<void> {
      await runs.update(runId, update);
      if (update.finished && update.report && (update.stage === 'done' || update.stage === 'gate_failed')) await recordSwapEvidence(runId, update.stage, update.report);
    },
  };
}

export type ReindexActivities = ReturnType<typeof createReindexActivities>;
