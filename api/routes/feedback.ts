import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tenantIdSchema } from '../../lib/gateway/tenant-settings';
import { FEEDBACK_GROUPS } from '../../lib/stores/answer-log';
import { callerOf } from '../plugins/auth';
import { collectionName, documentId, errorBody, labeledQuestion } from '../schemas';
import type { FeedbackService } from '../services/feedback-service';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody };
const answerParams = z.object({ answerId: z.string().uuid('an answer id is the uuid in the answer\'s "answerId"') });

const feedbackBody = z
  .object({
    rating: z.enum(['up', 'down']),
    comment: z.string().trim().min(1).max(2000).optional(),
    correction: z.string().trim().min(1).max(4000).optional().describe('what the answer should have said'),
    expected: z
      .object({ documentId, chunkId: z.string().min(1).max(128).optional() })
      .strict()
      .optional()
      .describe('the passage that should have been cited: a document of the collection, and its chunk when known (a chunkId of a retrieve answer)'),
  })
  .strict();

const feedbackView = z.object({
  rating: z.enum(['up', 'down']),
  comment: z.string().nullable(),
  correction: z.string().nullable(),
  expectedChunkId: z.string().nullable(),
  expectedDocumentId: z.string().nullable(),
});

const feedbackGiven = feedbackView.extend({
  answerId: z.string(),
  at: z.string(),
  replaced: z.boolean().describe('this answer had feedback before, which this replaces'),
});

const answerView = z.object({
  id: z.string(),
  at: z.string(),
  keyId: z.string().nullable(),
  collection: z.string(),
  question: z.string().describe('as the run saw it: personal data masked where the input guard masks it'),
  found: z.boolean(),
  answer: z.string(),
  citations: z.array(z.object({ documentId: z.string(), version: z.number().int(), chunkId: z.string(), page: z.number().int().nullable() })),
  provider: z.string(),
  model: z.string(),
  promptVersion: z.string(),
  promptLabel: z.string().nullable().describe('the label that chose the prompt version (null for answers from before the prompt registry)'),
  experimentId: z.string().nullable(),
  variant: z.string().nullable(),
  repairs: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  generation: z.number().int().nullable(),
  cacheHit: z.string(),
  fallbacks: z.number().int(),
  latencyMs: z.number(),
  costUsd: z.number(),
  traceId: z.string(),
  workflowId: z.string(),
  feedback: feedbackView.extend({ keyId: z.string().nullable(), at: z.string() }).nullable(),
});

const totals = z.object({
  answers: z.number().int(),
  notFound: z.number().int().describe('answers that said the documents do not answer the question'),
  rated: z.number().int(),
  up: z.number().int(),
  down: z.number().int(),
  score: z.number().nullable().describe('up / rated; null with no ratings'),
});

/** Served answers and the feedback on them. */
export const feedbackRoutes: FastifyPluginAsyncZod<{ feedback: FeedbackService }> = async (app, { feedback }) => {
  app.get(
    '/answers/:answerId',
    {
      config: { scopes: ['query', 'admin'] as const },
      schema: { tags: ['feedback'], summary: 'An answer this tenant was served, with what it was answered by and its feedback', params: answerParams, response: { 200: answerView, ...errors } },
    },
    async (request) => feedback.answer(callerOf(request), request.params.answerId),
  );

  app.post(
    '/answers/:answerId/feedback',
    {
      config: { scopes: ['query'] as const },
      schema: {
        tags: ['feedback'],
        summary: 'Rate an answer this tenant was served (201); sending again replaces the rating (200)',
        params: answerParams,
        body: feedbackBody,
        response: { 200: feedbackGiven, 201: feedbackGiven, ...errors, 422: errorBody },
      },
    },
    async (request, reply) => {
      const given = await feedback.give(callerOf(request), request.params.answerId, request.body);
      return reply.status(given.replaced ? 200 : 201).send(given);
    },
  );

  app.get(
    '/feedback',
    {
      config: { scopes: ['admin'] as const },
      schema: {
        tags: ['feedback'],
        summary: "Answers and their ratings over a time range, grouped by prompt version, experiment variant, collection, model or day: the caller's tenant (operators: any tenant, or all)",
        querystring: z.object({
          tenantId: tenantIdSchema.optional().describe('operators: one tenant (default: all); admins: their own'),
          collection: collectionName.optional(),
          from: z.string().datetime({ offset: true }).optional().describe('inclusive, ISO 8601; default: 29 days before the start of the current UTC day'),
          to: z.string().datetime({ offset: true }).optional().describe('exclusive, ISO 8601; default: now'),
          groupBy: z.enum(FEEDBACK_GROUPS).default('prompt'),
        }),
        response: {
          200: z.object({
            tenantId: z.string().nullable().describe('null: every tenant'),
            collection: z.string().nullable(),
            from: z.string(),
            to: z.string(),
            groupBy: z.enum(FEEDBACK_GROUPS),
            total: totals,
            groups: z.array(totals.extend({ group: z.string() })),
          }),
          ...errors,
        },
      },
    },
    async (request) => feedback.summary(callerOf(request), request.query),
  );

  app.get(
    '/collections/:collection/eval-candidates',
    {
      config: { scopes: ['admin'] as const },
      schema: {
        tags: ['feedback'],
        summary: "Rated answers of the collection as labeled questions, newest first: `questions` can be sent as they are to PUT /v1/collections/{collection}/eval-set",
        params: z.object({ collection: collectionName }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
        response: {
          200: z.object({
            collection: z.string(),
            questions: z.array(labeledQuestion),
            sources: z
              .array(z.object({ answerId: z.string(), rating: z.enum(['up', 'down']), labeledBy: z.enum(['expected', 'cited', 'refused']) }))
              .describe('for each question: the answer it came from, and whether its documents are the one the asker named or the ones a good answer cited'),
            skipped: z.number().int().describe('rated answers that name no document (a "down" without `expected`), or repeat a newer question'),
          }),
          ...errors,
        },
      },
    },
    async (request) => feedback.evalCandidates(callerOf(request), request.params.collection, request.query.limit),
  );
};
