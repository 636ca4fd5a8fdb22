import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { collectionName, documentMetadata, errorBody } from '../schemas';
import type { QueryService } from '../services/query-service';

const queryBody = z.object({
  collection: collectionName,
  question: z.string().trim().min(1, 'question must not be empty').max(4000),
  filters: documentMetadata.describe('exact match on document metadata; an array matches any of its values'),
  topK: z.number().int().min(1).max(50).default(8),
  mode: z.literal('retrieve').describe('"retrieve": ranked chunks without generation (answer mode is not available yet)'),
});

const retrievedChunk = z.object({
  chunkId: z.string(),
  documentId: z.string(),
  version: z.number().int(),
  chunkIndex: z.number().int(),
  title: z.string().nullable(),
  pageStart: z.number().int().nullable(),
  pageEnd: z.number().int().nullable(),
  headings: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  text: z.string(),
  score: z.number(),
});

const retrieveResponse = z.object({
  mode: z.literal('retrieve'),
  chunks: z.array(retrievedChunk),
  traceId: z.string().describe('the workflow id of this query: find it in the Temporal UI'),
  latencyMs: z.object({ embed: z.number(), search: z.number(), orchestration: z.number(), total: z.number() }),
});

export const queryRoutes: FastifyPluginAsyncZod<{ queries: QueryService }> = async (app, { queries }) => {
  app.post(
    '/query',
    {
      schema: {
        tags: ['query'],
        summary: 'Hybrid retrieval (dense + BM25, fused with RRF) over the active version of each document',
        body: queryBody,
        response: { 200: retrieveResponse, 400: errorBody, 404: errorBody },
      },
    },
    async (request) => {
      const { collection, question, filters, topK } = request.body;
      const result = await queries.retrieve({ tenantId: request.tenantId, collection, question, filters, topK });
      return { mode: 'retrieve' as const, ...result };
    },
  );
};
