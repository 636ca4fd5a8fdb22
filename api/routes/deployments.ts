import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../plugins/auth';
import { errorBody } from '../schemas';
import type { DeploymentService } from '../services/deployment-service';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody };
const admin = { scopes: ['admin'] as const };

const deploymentView = z.object({
  id: z.number().int(),
  at: z.string(),
  kind: z.enum(['prompt_label', 'generation_swap', 'model_routing']),
  target: z.string().describe('grounded-answer:production (prompt_label), <tenant>/<collection> (generation_swap), <tenant> (model_routing)'),
  fromVersion: z.string().nullable(),
  toVersion: z.string(),
  decision: z.enum(['promoted', 'refused', 'rolled_back', 'applied']),
  platformCommit: z.string(),
  configHash: z.string().describe("sha256 of the configuration answers depend on (models, routing, reranker, floor); for a generation swap, of the generation's embedding model and chunking"),
  approvedBy: z.string().nullable().describe('the key that asked for it'),
  reason: z.string().nullable(),
  workflowId: z.string().nullable().describe('the evaluateWorkflow run that decided it'),
});

/** Deployment evidence, kept for audits: operators only. */
export const deploymentRoutes: FastifyPluginAsyncZod<{ deployments: DeploymentService }> = async (app, { deployments }) => {
  app.get(
    '/deployments',
    {
      config: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Promotions (passed and refused), rollbacks, generation swaps and model routing changes, newest first, without their reports (operators)',
        querystring: z.object({ kind: z.enum(['prompt_label', 'generation_swap', 'model_routing']).optional(), target: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ deployments: z.array(deploymentView) }), ...errors },
      },
    },
    async (request) => ({ deployments: await deployments.list(callerOf(request), request.query) }),
  );

  app.get(
    '/deployments/:id',
    {
      config: admin,
      schema: {
        tags: ['deployments'],
        summary: 'One deployment decision with its evaluation report (operators)',
        params: z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
        response: { 200: deploymentView.extend({ report: z.unknown().nullable() }), ...errors },
      },
    },
    async (request) => deployments.get(callerOf(request), request.params.id),
  );
};
