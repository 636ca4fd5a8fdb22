import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tenantIdSchema } from '../../lib/gateway/tenant-settings';
import { USAGE_GROUPS } from '../../lib/stores/usage-ledger';
import { callerOf } from '../plugins/auth';
import { errorBody } from '../schemas';
import type { UsageService } from '../services/usage-service';

const totals = z.object({
  calls: z.number().int(),
  failedCalls: z.number().int().describe('failed attempts and replies rejected by validation'),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number(),
  latencyMsP50: z.number().nullable(),
  latencyMsP95: z.number().nullable(),
});

/** The usage and cost ledger, summed: admin scope. */
export const usageRoutes: FastifyPluginAsyncZod<{ usage: UsageService }> = async (app, { usage }) => {
  app.get(
    '/usage',
    {
      config: { scopes: ['admin'] as const },
      schema: {
        tags: ['admin'],
        summary: "Model and embedding calls with their tokens, cost and latency, summed over a time range and grouped: the caller's tenant (operators: any tenant, or all)",
        querystring: z.object({
          tenantId: tenantIdSchema.optional().describe("operators: one tenant (default: all); admins: their own"),
          from: z.string().datetime({ offset: true }).optional().describe('inclusive, ISO 8601; default: 29 days before the start of the current UTC day'),
          to: z.string().datetime({ offset: true }).optional().describe('exclusive, ISO 8601; default: now'),
          groupBy: z.enum(USAGE_GROUPS).default('day'),
        }),
        response: {
          200: z.object({
            tenantId: z.string().nullable().describe('null: every tenant'),
            from: z.string(),
            to: z.string(),
            groupBy: z.enum(USAGE_GROUPS),
            total: totals,
            groups: z.array(totals.extend({ group: z.string() })),
          }),
          400: errorBody,
          401: errorBody,
          403: errorBody,
          404: errorBody,
          429: errorBody,
        },
      },
    },
    async (request) => usage.report(callerOf(request), request.query),
  );
};
