import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../plugins/auth';
import { errorBody } from '../schemas';
import type { PromptService } from '../services/prompt-service';

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
export const promptRoutes: FastifyPluginAsyncZod<{ prompts: PromptService }> = async (app, { prompts }) => {
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
        summary: 'Point a label at a version (operators): answers that use the label render it from the next answer on',
        params: labelParams,
        body: z.object({ version: z.number().int().min(1), reason }).strict(),
        response: { 200: moveView.extend({ name: z.string() }), ...errors },
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
