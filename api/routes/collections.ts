import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { collectionDeletion, collectionName, collectionPatchBody, collectionSummary, collectionView, errorBody, gatewayErrors, evalSetBody, newCollectionBody, reindexBody, reindexRunDetail, reindexRunView } from '../schemas';
import type { ReindexRunRecord } from '../../lib/stores/reindex-run-store';
import { callerOf } from '../plugins/auth';
import type { AdminService } from '../services/admin-service';
import type { CollectionDetail, CollectionService } from '../services/collection-service';
import type { ReindexService } from '../services/reindex-service';
import type { CollectionSummary } from '../../lib/stores/collection-store';

const errors = { ...gatewayErrors, 404: errorBody, 409: errorBody, 422: errorBody, 503: errorBody };
const admin = { scopes: ['admin'] as const };
const readers = { scopes: ['admin', 'ingest'] as const };
const runParams = z.object({ collection: collectionName, reindexId: z.string().regex(/^rx_[0-9a-f]{12}$/, 'a re-index id looks like rx_0123456789ab') });

/** Public view of a run: the tenant is the caller's own and stays out of it. */
function view<T extends ReindexRunRecord>(run: T): Omit<T, 'tenantId'> {
  const { tenantId: _tenant, ...rest } = run;
  return rest;
}

/** A collection as the API shows it: the tenant is the caller's own. */
function summaryView(c: CollectionSummary) {
  return {
    name: c.name,
    liveGeneration: c.generation,
    embeddingModel: c.embeddingModel,
    chunking: { chunkSizeTokens: c.chunkSizeTokens, chunkOverlapTokens: c.chunkOverlapTokens },
    relevanceFloor: c.relevanceFloor,
    filterableKeys: c.filterableKeys,
    metadataKeys: c.metadataKeys,
    documents: c.documents,
    chunks: c.chunks,
    createdAt: c.createdAt,
  };
}

function detailView(c: CollectionDetail) {
  return { ...summaryView(c), generations: c.generations.map(({ tenantId: _t, collection: _c, ...g }) => g), evalQuestions: c.evalQuestions };
}

/** Collections: create, list, settings, durable deletion; their index generations: re-index, its operation, rollback, the labeled question set. */
export const collectionRoutes: FastifyPluginAsyncZod<{ collections: CollectionService; reindex: ReindexService; admin: AdminService }> = async (app, { collections, reindex, admin: audit }) => {
  const record = (request: FastifyRequest, action: string, target: string, details: Record<string, unknown> = {}) =>
    audit.record(callerOf(request), request.tenantId, action, target, details);

  app.get(
    '/collections',
    { config: readers, schema: { tags: ['collections'], summary: "The tenant's collections with document and chunk counts, live generation and settings", response: { 200: z.object({ collections: z.array(collectionSummary) }), ...errors } } },
    async (request) => ({ collections: (await collections.list(request.tenantId)).map(summaryView) }),
  );

  app.post(
    '/collections',
    {
      config: admin,
      schema: {
        tags: ['collections'],
        summary: 'Create a collection with its chunking, embedding model, filterable metadata keys and relevance floor (uploading into a new name creates one with defaults)',
        body: newCollectionBody,
        response: { 201: collectionView, ...errors },
      },
    },
    async (request, reply) => {
      const created = await collections.create({ tenantId: request.tenantId, ...request.body });
      await record(request, 'collection_created', created.name, { settings: request.body });
      return reply.status(201).send(detailView(created));
    },
  );

  app.get(
    '/collections/:collection',
    {
      config: readers,
      schema: { tags: ['collections'], summary: 'A collection: counts, live generation, settings, all generations', params: z.object({ collection: collectionName }), response: { 200: collectionView, ...errors } },
    },
    async (request) => detailView(await collections.get(request.tenantId, request.params.collection)),
  );

  app.patch(
    '/collections/:collection',
    {
      config: admin,
      schema: {
        tags: ['collections'],
        summary: 'Change settings that need no re-index: relevance floor, filterable keys (chunking and the embedding model change through POST …/reindex)',
        params: z.object({ collection: collectionName }),
        body: collectionPatchBody,
        response: { 200: collectionView, ...errors },
      },
    },
    async (request) => {
      const updated = await collections.update(request.tenantId, request.params.collection, request.body);
      await record(request, 'collection_updated', updated.name, { settings: request.body });
      return detailView(updated);
    },
  );

  app.delete(
    '/collections/:collection',
    {
      config: admin,
      schema: {
        tags: ['collections'],
        summary: 'Delete the collection durably: its documents stop being served at once; a workflow stops its runs and removes its points, versions and unshared bytes',
        params: z.object({ collection: collectionName }),
        response: { 202: collectionDeletion, ...errors },
      },
    },
    async (request, reply) => {
      const deletion = await collections.delete(request.tenantId, request.params.collection);
      await record(request, 'collection_deleted', request.params.collection, { workflowId: deletion.workflowId });
      return reply.status(202).send(deletion);
    },
  );

  app.get(
    '/collections/:collection/deletion',
    { config: readers, schema: { tags: ['collections'], summary: "Where the collection's deletion stands", params: z.object({ collection: collectionName }), response: { 200: collectionDeletion, ...errors } } },
    async (request) => collections.deletion(request.tenantId, request.params.collection),
  );

  app.post(
    '/collections/:collection/reindex',
    {
      config: admin,
      schema: {
        tags: ['collections'],
        summary: 'Rebuild the collection as a new generation (new embedding model and/or chunking); it goes live only if the gate passes',
        params: z.object({ collection: collectionName }),
        body: reindexBody,
        response: { 202: reindexRunView, ...errors },
      },
    },
    async (request, reply) => {
      const run = await reindex.startReindex({ ...request.body, tenantId: request.tenantId, collection: request.params.collection }, callerOf(request).principal.keyId ?? null);
      await record(request, 'reindex_started', request.params.collection, { runId: run.id, settings: request.body });
      return reply.status(202).send(view(run));
    },
  );

  app.get(
    '/collections/:collection/reindex',
    { config: readers, schema: { tags: ['collections'], summary: 'Recent re-index and rollback runs, newest first', params: z.object({ collection: collectionName }), response: { 200: z.object({ runs: z.array(reindexRunView) }), ...errors } } },
    async (request) => ({ runs: (await reindex.list(request.tenantId, request.params.collection)).map(view) }),
  );

  app.get(
    '/collections/:collection/reindex/:reindexId',
    { config: readers, schema: { tags: ['collections'], summary: 'Progress of a run: stage, documents done/total, chunks, errors, ETA, gate report', params: runParams, response: { 200: reindexRunDetail, ...errors } } },
    async (request) => view(await reindex.get(request.tenantId, request.params.collection, request.params.reindexId)),
  );

  for (const signal of ['pause', 'resume'] as const) {
    app.post(
      `/collections/:collection/reindex/:reindexId/${signal}`,
      {
        config: admin,
        schema: {
          tags: ['collections'],
          summary: signal === 'pause' ? 'Pause a run after its current batch (and before the swap)' : 'Resume a paused run',
          params: runParams,
          response: { 202: reindexRunDetail, ...errors },
        },
      },
      async (request, reply) => {
        const run = await reindex.signal(request.tenantId, request.params.collection, request.params.reindexId, signal);
        await record(request, `reindex_${signal}d`, request.params.collection, { runId: run.id });
        return reply.status(202).send(view(run));
      },
    );
  }

  app.delete(
    '/collections/:collection/reindex/:reindexId',
    { config: admin, schema: { tags: ['collections'], summary: 'Cancel a run; its half-built generation is removed, the live one is untouched', params: runParams, response: { 202: reindexRunDetail, ...errors } } },
    async (request, reply) => {
      const run = await reindex.cancel(request.tenantId, request.params.collection, request.params.reindexId);
      await record(request, 'reindex_cancelled', request.params.collection, { runId: run.id });
      return reply.status(202).send(view(run));
    },
  );

  app.post(
    '/collections/:collection/rollback',
    {
      config: admin,
      schema: {
        tags: ['collections'],
        summary: 'Go back to the previous generation: it catches up with changes since, passes the count gate, and swaps back in',
        params: z.object({ collection: collectionName }),
        response: { 202: reindexRunView, ...errors },
      },
    },
    async (request, reply) => {
      const run = await reindex.startRollback(request.tenantId, request.params.collection, callerOf(request).principal.keyId ?? null);
      await record(request, 'rollback_started', request.params.collection, { runId: run.id, toGeneration: run.toGeneration });
      return reply.status(202).send(view(run));
    },
  );

  app.put(
    '/collections/:collection/eval-set',
    {
      config: admin,
      schema: {
        tags: ['collections'],
        summary: "Replace the collection's labeled questions (document-level relevance); the re-index gate compares recall@k on them",
        params: z.object({ collection: collectionName }),
        body: evalSetBody,
        response: { 200: evalSetBody, ...errors },
      },
    },
    async (request) => {
      const questions = await reindex.setEvalSet(request.tenantId, request.params.collection, request.body.questions);
      await record(request, 'eval_set_replaced', request.params.collection, { questions: questions.length });
      return { questions };
    },
  );

  app.get(
    '/collections/:collection/eval-set',
    { config: readers, schema: { tags: ['collections'], summary: "The collection's labeled questions", params: z.object({ collection: collectionName }), response: { 200: evalSetBody, ...errors } } },
    async (request) => ({ questions: await reindex.getEvalSet(request.tenantId, request.params.collection) }),
  );
};
