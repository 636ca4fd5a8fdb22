import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../plugins/auth';
import { collectionName, errorBody } from '../schemas';
import type { ExperimentService } from '../services/experiment-service';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 429: errorBody };
const admin = { scopes: ['admin'] as const };
const idParams = z.object({ id: z.string().regex(/^exp_[0-9a-f]{12}$/, 'an experiment id looks like exp_0123456789ab') });

const variant = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a variant name is 1-40 characters of a-z, 0-9, "_" and "-"'),
    weight: z.number().int().min(0).max(100).describe('percent of the traffic'),
    promptLabel: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/).optional().describe('the prompt label it answers with (default: the production label)'),
    model: z.string().min(1).max(40).optional().describe('a configured chat model, routed first (the others stay behind it)'),
  })
  .strict();

const newExperiment = z
  .object({
    name: z.string().trim().min(1).max(200),
    collection: collectionName.optional().describe('default: every collection of the tenant'),
    variants: z.array(variant).min(2).max(5),
  })
  .strict()
  .refine((body) => body.variants.reduce((sum, v) => sum + v.weight, 0) === 100, { message: 'the variants’ weights must sum to 100', path: ['variants'] })
  .refine((body) => new Set(body.variants.map((v) => v.name)).size === body.variants.length, { message: 'variant names must differ', path: ['variants'] });

const experimentView = z.object({
  id: z.string(),
  name: z.string(),
  collection: z.string().nullable(),
  variants: z.array(variant),
  state: z.enum(['draft', 'running', 'stopped']),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  stoppedAt: z.string().nullable(),
});

const counted = z.object({ count: z.number().int(), rate: z.number().nullable().describe('count / answers; null with no answers') });
const variantResult = z.object({
  variant: z.string(),
  weight: z.number().int(),
  answers: z.number().int(),
  notFound: counted,
  repaired: counted.describe('answers where a reply failed validation (repaired, or passed over)'),
  fellBack: counted.describe('answers where a candidate was passed over'),
  latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
  tokens: z.object({ input: z.number().int(), output: z.number().int() }),
  costUsd: z.number(),
  feedback: z.object({ rated: z.number().int(), up: z.number().int(), down: z.number().int(), score: z.number().nullable().describe('up / rated') }),
});

/** A/B/n experiments on the caller's tenant's answers: admin scope. */
export const experimentRoutes: FastifyPluginAsyncZod<{ experiments: ExperimentService }> = async (app, { experiments }) => {
  app.post(
    '/experiments',
    {
      config: admin,
      schema: {
        tags: ['experiments'],
        summary: "Create an experiment (a draft) on the tenant's answers: 2-5 variants whose weights sum to 100, each a prompt label and/or a preferred model",
        body: newExperiment,
        response: { 201: experimentView, ...errors, 422: errorBody },
      },
    },
    async (request, reply) => reply.status(201).send(await experiments.create(callerOf(request), request.body)),
  );

  app.get(
    '/experiments',
    { config: admin, schema: { tags: ['experiments'], summary: "The tenant's experiments, newest first", response: { 200: z.object({ experiments: z.array(experimentView) }), ...errors } } },
    async (request) => ({ experiments: await experiments.list(callerOf(request)) }),
  );

  app.get(
    '/experiments/:id',
    { config: admin, schema: { tags: ['experiments'], summary: 'One experiment', params: idParams, response: { 200: experimentView, ...errors } } },
    async (request) => experiments.get(callerOf(request), request.params.id),
  );

  app.post(
    '/experiments/:id/start',
    {
      config: admin,
      schema: { tags: ['experiments'], summary: 'Start a draft: answers on its scope are split from the next one on; 409 when another runs on the same scope', params: idParams, response: { 200: experimentView, ...errors } },
    },
    async (request) => experiments.start(callerOf(request), request.params.id),
  );

  app.post(
    '/experiments/:id/stop',
    { config: admin, schema: { tags: ['experiments'], summary: 'Stop a running experiment for good (its results stay)', params: idParams, response: { 200: experimentView, ...errors } } },
    async (request) => experiments.stop(callerOf(request), request.params.id),
  );

  app.get(
    '/experiments/:id/results',
    {
      config: admin,
      schema: {
        tags: ['experiments'],
        summary: 'Per variant: answers, not-found, repairs and fallbacks (counts and rates), latency p50/p95, tokens, cost and feedback',
        params: idParams,
        response: { 200: z.object({ experiment: experimentView, variants: z.array(variantResult) }), ...errors },
      },
    },
    async (request) => experiments.results(callerOf(request), request.params.id),
  );
};
