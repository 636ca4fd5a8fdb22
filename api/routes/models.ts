import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../plugins/auth';
import { errorBody } from '../schemas';
import type { ModelService } from '../services/model-service';

const modelView = z.object({
  name: z.string().describe('the candidate name routing and experiments use'),
  provider: z.enum(['openai', 'anthropic', 'local']),
  model: z.string(),
  tasks: z.array(z.string()),
  capabilities: z.array(z.string()),
  contextTokens: z.number().int(),
  maxOutputTokens: z.number().int(),
  prices: z.object({ inputPerMillionUsd: z.number(), outputPerMillionUsd: z.number() }),
  configuredLatencyMs: z.number().describe('the configured typical latency: what routing uses until enough calls are measured'),
  measuredLatencyMs: z
    .object({ p50: z.number(), p95: z.number(), calls: z.number().int(), usedForRouting: z.boolean().describe('enough successful calls for the fastest policy to use the p50') })
    .nullable()
    .describe('from successful calls over the last 24 hours; null: none'),
  allowed: z.boolean().describe("the caller's tenant may be routed to it"),
});

export const modelRoutes: FastifyPluginAsyncZod<{ models: ModelService }> = async (app, { models }) => {
  app.get(
    '/models',
    {
      config: { scopes: ['query', 'admin'] as const },
      schema: {
        tags: ['models'],
        summary: "The configured chat models: context window, prices, capabilities, measured latency, and whether the caller's tenant may use each",
        response: { 200: z.object({ models: z.array(modelView) }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody },
      },
    },
    async (request) => ({ models: await models.list(callerOf(request)) }),
  );
};
