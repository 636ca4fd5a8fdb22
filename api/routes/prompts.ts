import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../plugins/auth';
import { errorBody } from '../schemas';
import type { PromptService } from '../services/prompt-service';
import type { PromotionService } from '../services/promotion-service';
import { collectionName } from '../schemas';
import { tenantIdSchema } from '../../lib/gateway/tenant-settings';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody };
const admin = { scopes: ['admin'] as const };

const promptName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a prompt name is 1-64 characters of a-z, 0-9 and "-"');
const label = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a prompt label is 1-64 characters of a-z, 0-9, ".", "_" and "-"');
const version = z.coerce.number().int().min(1).max(1_000_000);
const nameParams = z.object({ name: promptName });
const versionParams = nameParams.extend({ version });
const labelParams = nameParams.extend({ label });
const reason = z.string().trim().min(1).max(500).optional().describe('why: kept in the label history and the audit log');

const versionView = z.object({
  name: z.string(),
  version: z.number().int(),
  contentHash: z.string().describe("the first 12 hex digits of the content's sha256, as answers record it"),
  author: z.string().describe('the key that created it; "repo" for versions seeded from prompts/'),
  note: z.string().nullable(),
  createdAt: z.string(),
});
const labelView = z.object({ label: z.string(), version: z.number().int(), movedAt: z.string(), movedBy: z.string() });
const summaryView = z.object({ name: z.string(), latestVersion: z.number().int().nullable(), labels: z.array(labelView) });
const moveView = z.object({
  id: z.number().int(),
  label: z.string(),
  fromVersion: z.number().int().nullable(),
  toVersion: z.number().int(),
  kind: z.enum(['seed', 'move', 'rollback']),
  actor: z.string(),
  reason: z.string().nullable(),
  at: z.string(),
});

/** The prompt registry: immutable versions, movable labels. Admin scope; writes: operators. */
const rate = z.number().min(0).max(1);
const promotionBody = z
  .object({
    version: z.number().int().min(1),
    evalSet: z.object({ tenantId: tenantIdSchema, collection: collectionName }).strict().describe("the labeled questions that gate it: a tenant's collection eval set"),
    tolerances: z
      .object({
        answersWithEvidence: rate.optional().describe('how far the answered-with-evidence rate may fall below the baseline (default 0.02)'),
        recallAt5: rate.optional().describe('how far recall@5 may fall (default 0.02)'),
        refusals: rate.optional().describe('how far the share of unanswerable questions refused may fall (default 0.02)'),
        p95Ms: z.number().int().min(1).max(600_000).optional().describe("the SLO on the candidate's answer p95 (default 10000)"),
      })
      .strict()
      .optional(),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

const countedRate = z.object({ count: z.number().int(), rate: z.number() });
const configurationReport = z.object({
  questions: z.number().int(),
  unanswerable: z.number().int().describe('questions labeled with no relevant document: the collection cannot answer them'),
  retrieval: z.object({ recallAt5: z.number(), recallAt10: z.number(), mrr: z.number() }).describe('over the answerable questions'),
  answers: z.object({
    withEvidence: countedRate.describe('answerable questions answered, citing a labeled document'),
    found: countedRate.describe('answerable questions answered at all'),
    citationsOnEvidence: countedRate.describe('of those found, the answers citing only labeled documents'),
    refusals: countedRate.describe('unanswerable questions refused (found: false): refusal correctness'),
  }),
  latencyMs: z.object({ p50: z.number(), p95: z.number() }),
  costUsd: z.number(),
});
export const gateReport = z.object({
  passed: z.boolean(),
  failures: z.array(z.string()).describe('why it did not pass; empty when it passed'),
  baseline: configurationReport,
  candidate: configurationReport,
  safety: z.object({ passed: z.boolean(), probes: z.array(z.object({ probe: z.string(), kind: z.enum(['prompt_injection', 'pii']), passed: z.boolean(), outcome: z.string() })) }),
  tolerances: z.object({ answersWithEvidence: z.number(), recallAt5: z.number(), refusals: z.number(), p95Ms: z.number() }),
});

const promotionView = z.object({
  decision: z.literal('promoted'),
  name: z.string(),
  label: z.string(),
  fromVersion: z.number().int(),
  toVersion: z.number().int(),
  deploymentId: z.number().int().describe('the stored evidence: GET /v1/deployments/{id}'),
  workflowId: z.string(),
  workflowUrl: z.string().describe('the evaluateWorkflow run in the Temporal UI'),
  report: gateReport.describe('baseline and candidate figures, the safety set, the tolerances, and why it failed (empty when it passed)'),
});

export const promptRoutes: FastifyPluginAsyncZod<{ prompts: PromptService; promotions: PromotionService }> = async (app, { prompts, promotions }) => {
  app.post(
    '/prompts/:name/labels/:label/promotions',
    {
      config: admin,
      schema: {
        tags: ['prompts'],
        summary: 'Promote a version to a label through the evaluation gate (operators): evaluateWorkflow answers the eval set under the current and the candidate version; 200 when it passed (the label moved), 409 promotion_refused with the report otherwise. Both are stored as deployment evidence',
        params: labelParams,
        body: promotionBody,
        response: { 200: promotionView, ...errors, 409: errorBody, 422: errorBody, 502: errorBody },
      },
    },
    async (request) => promotions.promote(callerOf(request), request.params.name, request.params.label, request.body),
  );

  app.get(
    '/prompts',
    { config: admin, schema: { tags: ['prompts'], summary: 'The prompts, their newest version and their labels', response: { 200: z.object({ prompts: z.array(summaryView) }), ...errors } } },
    async () => ({ prompts: await prompts.list() }),
  );

  app.get(
    '/prompts/:name',
    { config: admin, schema: { tags: ['prompts'], summary: 'A prompt: its labels and every version (without content)', params: nameParams, response: { 200: summaryView.extend({ versions: z.array(versionView) }), ...errors } } },
    async (request) => prompts.get(request.params.name),
  );

  app.post(
    '/prompts/:name/versions',
    {
      config: admin,
      schema: {
        tags: ['prompts'],
        summary: 'Add a version (operators): 201, or 200 with the version that already has this exact content. 422 when it would not render (sections and variables are checked)',
        params: nameParams,
        body: z.object({ content: z.string().min(1).max(100_000).describe('"## system", "## user" and "## repair" sections; {{sources}}, {{question}} and {{issues}} are filled in'), note: z.string().trim().min(1).max(500).optional() }).strict(),
        response: { 200: versionView.extend({ created: z.boolean() }), 201: versionView.extend({ created: z.boolean() }), ...errors, 422: errorBody },
      },
    },
    async (request, reply) => {
      const added = await prompts.addVersion(callerOf(request), request.params.name, request.body);
      return reply.status(added.created ? 201 : 200).send(added);
    },
  );

  app.get(
    '/prompts/:name/versions/:version',
    { config: admin, schema: { tags: ['prompts'], summary: 'One version, with its content', params: versionParams, response: { 200: versionView.extend({ content: z.string() }), ...errors } } },
    async (request) => prompts.version(request.params.name, request.params.version),
  );

  app.get(
    '/prompts/:name/diff',
    {
      config: admin,
      schema: {
        tags: ['prompts'],
        summary: 'A unified diff between two versions',
        params: nameParams,
        querystring: z.object({ from: version, to: version }),
        response: { 200: z.object({ name: z.string(), from: z.number().int(), to: z.number().int(), diff: z.string() }), ...errors },
      },
    },
    async (request) => prompts.diff(request.params.name, request.query.from, request.query.to),
  );

  app.put(
    '/prompts/:name/labels/:label',
    {
      config: admin,
      schema: {
        tags: ['prompts'],
        summary: 'Point a label at a version (operators): answers that use the label render it from the next answer on. The production label moves only through promotions (409 promotion_required)',
        params: labelParams,
        body: z.object({ version: z.number().int().min(1), reason }).strict(),
        response: { 200: moveView.extend({ name: z.string() }), ...errors, 409: errorBody },
      },
    },
    async (request) => prompts.moveLabel(callerOf(request), request.params.name, request.params.label, request.body),
  );

  app.post(
    '/prompts/:name/labels/:label/rollback',
    {
      config: admin,
      schema: {
        tags: ['prompts'],
        summary: 'Move a label back to the version it pointed at before its last move (operators); 409 when it never moved',
        params: labelParams,
        body: z.object({ reason }).strict().default({}),
        response: { 200: moveView.extend({ name: z.string() }), ...errors, 409: errorBody },
      },
    },
    async (request) => prompts.rollback(callerOf(request), request.params.name, request.params.label, request.body),
  );

  app.get(
    '/prompts/:name/labels/:label/history',
    {
      config: admin,
      schema: {
        tags: ['prompts'],
        summary: "A label's moves, newest first",
        params: labelParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ name: z.string(), label: z.string(), moves: z.array(moveView) }), ...errors },
      },
    },
    async (request) => prompts.history(request.params.name, request.params.label, request.query.limit),
  );
};
