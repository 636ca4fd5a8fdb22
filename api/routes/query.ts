import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { collectionName, documentMetadata, errorBody, gatewayErrors } from '../schemas';
import type { StreamEvent } from '../../lib/answer/answer-stream';
import type { ErrorBody } from '../plugins/error-handler';
import { callerOf } from '../plugins/auth';
import { traceparentHeader } from '../plugins/trace-context';
import type { GatewayAnswer, QueryGateway } from '../services/query-gateway';
import { PlatformError } from '../../lib/errors';
import { BLOCK_KINDS } from '../../lib/ingest/pdf-layout';

const queryBody = z
  .object({
    collection: collectionName,
    question: z.string().trim().min(1, 'question must not be empty').max(4000),
    filters: documentMetadata.describe('exact match on document metadata; an array matches any of its values'),
    topK: z.number().int().min(1).max(50).default(8).describe('chunks returned ("retrieve") or shown to the model ("answer")'),
    mode: z.enum(['answer', 'retrieve']).default('answer').describe('"answer": a grounded, cited answer; "retrieve": ranked chunks without generation'),
    cache: z
      .enum(['on', 'off'])
      .default('on')
      .describe('"off": answer afresh and leave the cache as it is (the tenant and the deployment may also have it off)'),
    promptLabel: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a prompt label is 1-64 characters of a-z, 0-9, ".", "_" and "-"')
      .optional()
      .describe('answers: the label of the prompt to answer with (default "production"), e.g. "canary"'),
    subject: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('answers: a user or session key; a running experiment always gives the same subject the same variant (without one, each request is assigned afresh)'),
    stream: z
      .boolean()
      .default(false)
      .describe('answer as server-sent events: `delta` {text}, `reset` {reason} (discard the text so far), then `answer` (the JSON response) or `error`'),
  })
  .refine((body) => !(body.stream && body.mode === 'retrieve'), { message: 'stream is only available with mode "answer"', path: ['stream'] })
  .refine((body) => !(body.promptLabel && body.mode === 'retrieve'), { message: 'promptLabel is only available with mode "answer"', path: ['promptLabel'] })
  .refine((body) => !(body.subject && body.mode === 'retrieve'), { message: 'subject is only available with mode "answer"', path: ['subject'] });

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
  kind: z.enum(BLOCK_KINDS).describe('body text, or a navigation block (contents, index, references) or a caption'),
  score: z.number(),
});

const retrieveResponse = z.object({
  mode: z.literal('retrieve'),
  chunks: z.array(retrievedChunk),
  traceId: z.string().regex(/^[0-9a-f]{32}$/).describe("the W3C trace id of this request (the caller's traceparent, or a new one): find its spans in the tracing backend and its calls in the usage ledger"),
  workflowId: z.string().describe('the workflow of this query: find it in the Temporal UI'),
  runId: z.string().describe('the run of that workflow'),
  workflowUrl: z.string().describe("that run's page in the Temporal UI (the query namespace)"),
  latencyMs: z.object({ embed: z.number(), search: z.number(), orchestration: z.number(), total: z.number() }),
});

const citation = z.object({
  documentId: z.string(),
  version: z.number().int(),
  chunkId: z.string(),
  page: z.number().int().nullable(),
  quote: z.string().describe('text of the chunk (checked to occur in it, ignoring case and spacing)'),
  score: z.number().describe("the reranker's relevance of the chunk"),
});

const modelCall = z.object({
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  latencyMs: z.number(),
  outcome: z.enum(['valid', 'invalid_output', 'failed', 'skipped_circuit_open']),
  error: z.string().optional(),
});

const guardDecision = z.object({
  stage: z.enum(['input', 'retrieval', 'output']),
  check: z.string(),
  outcome: z.enum(['pass', 'clean', 'flag', 'block', 'mask', 'drop', 'off']),
  details: z.record(z.string(), z.unknown()).optional(),
});

const notFound = z
  .object({
    reason: z
      .enum(['no_candidates', 'below_relevance_floor', 'model_declined', 'no_evidence'])
      .describe('no_candidates: retrieval found nothing; below_relevance_floor: no passage scored at the floor; model_declined: the model read the sources and found no answer'),
    bestScore: z.number().nullable().describe("the best candidate's relevance"),
    floor: z.number().nullable().describe("the collection's relevance floor"),
    closest: z.array(z.object({ documentId: z.string(), title: z.string().nullable(), score: z.number() })).describe('the documents that came closest, best first'),
  })
  .describe('why the answer is "not found", so the question can be asked differently or the documents checked');

const answerResponse = z.object({
  mode: z.literal('answer'),
  answerId: z.string().uuid().describe('this answer as it was served (a cached answer served again has its own): send feedback on it to POST /v1/answers/{answerId}/feedback'),
  found: z.boolean().describe('false: the documents do not answer the question, and `answer` says so'),
  answer: z.string(),
  citations: z.array(citation),
  notFound: notFound.optional(),
  model: z.object({ provider: z.string(), model: z.string() }).describe('who answered: a configured model, "extractive", or "none" when nothing relevant was retrieved'),
  promptVersion: z.string().describe('<name>@v<version>#<content hash> of the prompt used'),
  prompt: z.object({ name: z.string(), version: z.number().int(), label: z.string() }).describe('the prompt version answered with, and the label that chose it'),
  experiment: z
    .object({ id: z.string(), variant: z.string(), sticky: z.boolean().describe('assigned by the request\'s subject (false: no subject was given)') })
    .nullable()
    .describe('the experiment variant this answer was served under; null outside experiments (or when the request named a promptLabel)'),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number(), calls: z.array(modelCall) }),
  fallbacks: z.array(z.string()).describe('candidates passed over, and why'),
  traceId: z.string().regex(/^[0-9a-f]{32}$/).describe("the W3C trace id of this request (the caller's traceparent, or a new one): find its spans in the tracing backend and its calls in the usage ledger"),
  workflowId: z.string().describe('the workflow of this query: find it in the Temporal UI'),
  runId: z.string().describe('the run of that workflow'),
  workflowUrl: z.string().describe("that run's page in the Temporal UI (the query namespace)"),
  guardrails: z.array(guardDecision).describe("each guardrail's decision on this request (also in the audit log); empty when guardrails are off"),
  cache: z
    .object({
      hit: z.enum(['exact', 'semantic', 'miss', 'off']).describe('exact: the same question; semantic: a paraphrase of a cached one; miss: answered afresh and cached; off: the cache was not asked'),
      ageSeconds: z.number().int().optional().describe('how long ago the cached answer was made'),
      traceId: z.string().optional().describe('the trace of the request that made the cached answer (workflowId and runId are its run too)'),
      matchedQuestion: z.string().optional().describe('semantic hits: the cached question that matched'),
      similarity: z.number().optional().describe("semantic hits: the cosine similarity of the two questions' embeddings"),
    })
    .describe('answers are cached per tenant, collection content and settings: a change to the documents is always a miss'),
  latencyMs: z.object({
    embed: z.number(),
    search: z.number(),
    rerank: z.number(),
    generate: z.number(),
    orchestration: z.number(),
    cache: z.number().optional().describe('the cache lookup before the run'),
    total: z.number(),
  }),
});

export const queryRoutes: FastifyPluginAsyncZod<{ queries: QueryGateway }> = async (app, { queries }) => {
  app.post(
    '/query',
    {
      config: { scopes: ['query'] },
      schema: {
        tags: ['query'],
        summary: 'A grounded, cited answer, or ranked chunks: hybrid retrieval (dense + BM25, RRF) over the active version of each document',
        body: queryBody,
        response: {
          200: {
            // `stream: true` answers with server-sent events (delta, citation, reset, done, error), written by the handler.
            content: {
              'application/json': { schema: z.union([answerResponse, retrieveResponse]) },
              'text/event-stream': {
                // Each event: `delta` {text} as text arrives, `reset` {reason} when shown text is withdrawn, then `answer` (the body above) or `error` (an error body).
                schema: z.object({ event: z.enum(['delta', 'reset', 'answer', 'error']), data: z.string().describe('the event as JSON') }),
              },
            },
          },
          ...gatewayErrors,
          404: errorBody,
          422: errorBody,
          502: errorBody,
          503: errorBody,
        },
      },
    },
    async (request, reply) => {
      const { collection, question, filters, topK, mode, stream, cache, promptLabel, subject } = request.body;
      const input = { tenantId: request.tenantId, collection, question, filters, topK };
      const caller = callerOf(request);
      if (mode === 'retrieve') return { mode, ...(await queries.retrieve(caller, input)) };
      if (!stream) return { mode, ...present(await queries.answer(caller, { ...input, promptLabel, subject }, cache)) };

      // Guard and budget first: their refusals are plain 400/429 answers, not stream events.
      const admitted = await queries.admit(caller, { ...input, mode, promptLabel, subject });
      // Server-sent events: the reply is written here, not by Fastify's serializer. The stream
      // opens with its first event, so a failure before (the run could not start) is a plain answer.
      const out = reply.raw;
      let opened = false;
      const send = (event: string, data: unknown) => {
        if (!opened) {
          reply.hijack();
          out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...traceparentHeader(reply) });
          opened = true;
        }
        out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const closed = new AbortController();
      out.on('close', () => closed.abort());
      try {
        const answer = await queries.streamAnswer(admitted, input, {
          onEvent: (event: StreamEvent) => (event.type === 'delta' ? send('delta', { text: event.text }) : send('reset', { reason: event.reason })),
          closed: closed.signal,
        }, cache);
        send('answer', { mode, ...present(answer) });
      } catch (error) {
        if (!opened) throw error;
        send('error', streamError(error, String(request.id)));
        if (!PlatformError.isInstance(error)) request.log.error({ err: error }, 'streamed answer failed');
      }
      out.end();
    },
  );
};

const present = ({ answeredBy, instructionChunks: _flagged, ...answer }: GatewayAnswer) => ({ ...answer, model: answeredBy });

/** The error shape of every route; after the headers are sent it travels as an `error` event. */
function streamError(error: unknown, requestId: string): ErrorBody {
  if (PlatformError.isInstance(error)) return { error: { code: error.code, message: error.message, requestId } };
  return { error: { code: 'internal_error', message: 'internal error; quote the request id when reporting it', requestId } };
}
