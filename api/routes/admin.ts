import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tenantIdSchema } from '../../lib/gateway/tenant-settings';
import { auditEntryView, createTenantBody, errorBody, issueKeyBody, issuedKey, keyView, tenantIdParam, tenantView, updateTenantBody } from '../schemas';
import { callerOf } from '../plugins/auth';
import type { AdminService } from '../services/admin-service';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody, 429: errorBody };
const admin = { scopes: ['admin'] as const };
const keyParams = tenantIdParam.extend({ keyId: z.string().regex(/^key_[0-9a-f]{12}$/, 'a key id looks like key_0123456789ab') });

/** Tenants, API keys and the audit log: admin scope. */
export const adminRoutes: FastifyPluginAsyncZod<{ admin: AdminService }> = async (app, { admin: service }) => {
  app.post(
    '/admin/tenants',
    { config: admin, schema: { tags: ['admin'], summary: 'Create a tenant (operators)', body: createTenantBody, response: { 201: tenantView, ...errors } } },
    async (request, reply) => reply.status(201).send(await service.createTenant(callerOf(request), request.body)),
  );

  app.get(
    '/admin/tenants',
    { config: admin, schema: { tags: ['admin'], summary: 'All tenants (operators)', response: { 200: z.object({ tenants: z.array(tenantView) }), ...errors } } },
    async (request) => ({ tenants: await service.listTenants(callerOf(request)) }),
  );

  app.get(
    '/admin/tenants/:tenantId',
    { config: admin, schema: { tags: ['admin'], summary: "A tenant and its settings (operators, or the tenant's own admins)", params: tenantIdParam, response: { 200: tenantView, ...errors } } },
    async (request) => service.getTenant(callerOf(request), request.params.tenantId),
  );

  app.patch(
    '/admin/tenants/:tenantId',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: "Change a tenant's name or settings; the sections and fields given replace the current ones. Budgets and rate limits: operators only",
        params: tenantIdParam,
        body: updateTenantBody,
        response: { 200: tenantView, ...errors },
      },
    },
    async (request) => service.updateTenant(callerOf(request), request.params.tenantId, request.body),
  );

  app.post(
    '/admin/tenants/:tenantId/keys',
    { config: admin, schema: { tags: ['admin'], summary: 'Issue an API key; the key is in this answer only', params: tenantIdParam, body: issueKeyBody, response: { 201: issuedKey, ...errors } } },
    async (request, reply) => {
      const { key, record } = await service.issueKey(callerOf(request), request.params.tenantId, request.body);
      return reply.status(201).send({ ...record, key });
    },
  );

  app.get(
    '/admin/tenants/:tenantId/keys',
    { config: admin, schema: { tags: ['admin'], summary: "A tenant's API keys (never the keys themselves)", params: tenantIdParam, response: { 200: z.object({ keys: z.array(keyView) }), ...errors } } },
    async (request) => ({ keys: (await service.listKeys(callerOf(request), request.params.tenantId)) }),
  );

  app.delete(
    '/admin/tenants/:tenantId/keys/:keyId',
    { config: admin, schema: { tags: ['admin'], summary: "Revoke a key: refused from its next request on", params: keyParams, response: { 200: keyView, ...errors } } },
    async (request) => service.revokeKey(callerOf(request), request.params.tenantId, request.params.keyId),
  );

  app.get(
    '/admin/audit',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: "The append-only audit log of the caller's tenant (operators: any tenant), oldest first after a cursor",
        querystring: z.object({
          tenantId: tenantIdSchema.optional(),
          after: z.coerce.number().int().min(0).optional().describe('the last id seen'),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          category: z.enum(['admin', 'guardrail']).optional(),
          action: z.string().max(64).optional(),
        }),
        response: { 200: z.object({ entries: z.array(auditEntryView), nextCursor: z.number().int().nullable() }), ...errors },
      },
    },
    async (request) => {
      const entries = await service.readAudit(callerOf(request), request.query);
      return { entries, nextCursor: entries.length === request.query.limit ? (entries.at(-1)?.id ?? null) : null };
    },
  );
};
