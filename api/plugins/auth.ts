import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { apiKeyFrom } from '../../lib/gateway/api-key';
import { FailedAuthLimiter } from '../../lib/gateway/failed-auth-limiter';
import { DEFAULT_TENANT, DEFAULT_TENANT_SETTINGS, PLATFORM_TENANT, SCOPES, type Scope, type TenantSettings } from '../../lib/gateway/tenant-settings';
import { PlatformError } from '../../lib/errors';
import type { TenantStore } from '../../lib/stores/tenant-store';

/** A browser session's cookie: an operator key, HttpOnly, for the routes that accept it. */
export const SESSION_COOKIE = 'rag_session';

/** Who is calling, as every route sees it. */
export interface RequestPrincipal {
  tenantId: string;
  /** The API key's id; null when auth is off. */
  keyId: string | null;
  scopes: readonly Scope[];
  settings: TenantSettings;
  /** The key's own request limit per minute, if it has one. */
  rateLimitPerMinute: number | null;
  /** An admin key of the operators' tenant: manages every tenant and its keys. */
  platformAdmin: boolean;
}

/** Who acts in a service call: the principal, and the request id the audit log records. */
export interface Caller {
  principal: RequestPrincipal;
  requestId: string;
  /** The request's W3C trace id (api/plugins/trace-context.ts). */
  traceId: string;
}

export function callerOf(request: FastifyRequest): Caller {
  return { principal: request.principal, requestId: String(request.id), traceId: request.traceContext.traceId };
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: RequestPrincipal;
    /** Shorthand for `principal.tenantId`: every store and search is scoped by it. */
    tenantId: string;
  }
  interface FastifyContextConfig {
    /** Any one of these scopes admits the request. Every /v1 route must declare it. */
    scopes?: readonly Scope[];
    /** The key may also come from the session cookie (the codec server, called by the Temporal UI). */
    sessionCookie?: boolean;
  }
}

export interface AuthOptions {
  mode: 'on' | 'off';
  tenants: TenantStore;
  /** Failed attempts per client address and minute before it gets 429 without a lookup; 0: no limit. */
  failuresPerMinute: number;
}

/**
 * Resolves the API key on every request (one indexed lookup, no cache: a revoked key is refused
 * on its next request) before the body is read, then checks the route's scopes. Routes under
 * /v1 that declare no scopes fail the start-up, so none is open by mistake.
 */
export const auth = fp(async (app: FastifyInstance, { mode, tenants, failuresPerMinute }: AuthOptions) => {
  const limiter = failuresPerMinute > 0 ? new FailedAuthLimiter({ maxFailures: failuresPerMinute, windowMs: 60_000 }) : null;
  app.decorateRequest('principal', null as unknown as RequestPrincipal);
  app.decorateRequest('tenantId', '');

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1') && !route.config?.scopes) throw new Error(`route ${route.method} ${route.url} declares no scopes`);
  });

  const open: RequestPrincipal | null =
    mode === 'off'
      ? { tenantId: DEFAULT_TENANT, keyId: null, scopes: SCOPES, settings: (await tenants.get(DEFAULT_TENANT))?.settings ?? DEFAULT_TENANT_SETTINGS, rateLimitPerMinute: null, platformAdmin: false }
      : null;

  app.addHook('onRequest', async (request) => {
    const required = request.routeOptions.config?.scopes;
    if (!required) return; // public: health, API docs, unknown routes
    const principal = open ?? (await authenticate(request, tenants, limiter));
    if (!required.some((scope) => principal.scopes.includes(scope))) {
      throw new PlatformError('insufficient_scope', `this route needs a key with scope ${required.join(' or ')}`, 403, { required, granted: principal.scopes });
    }
    request.principal = principal;
    request.tenantId = principal.tenantId;
  });
});

async function authenticate(request: FastifyRequest, tenants: TenantStore, limiter: FailedAuthLimiter | null): Promise<RequestPrincipal> {
  const key = apiKeyFrom(request.headers) ?? (request.routeOptions.config?.sessionCookie ? request.cookies?.[SESSION_COOKIE] : undefined);
  const retryAfterSeconds = limiter?.retryAfterSeconds(request.ip, key) ?? 0;
  if (retryAfterSeconds > 0) {
    throw new PlatformError('too_many_failed_authentications', `too many failed authentication attempts from this address; retry in ${retryAfterSeconds} s`, 429, { retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });
  }
  const refuse = (code: string, message: string) => {
    limiter?.failed(request.ip);
    return unauthorized(code, message);
  };
  if (!key) throw refuse('missing_api_key', 'send an API key: "Authorization: Bearer <key>" or "x-api-key: <key>"');
  const found = await tenants.authenticate(key);
  if (!found) throw refuse('invalid_api_key', 'the API key is not valid');
  if (found.key.revokedAt) throw refuse('api_key_revoked', `the API key ${found.key.id} was revoked at ${found.key.revokedAt}`);
  limiter?.succeeded(key);
  return {
    tenantId: found.tenant.id,
    keyId: found.key.id,
    scopes: found.key.scopes,
    settings: found.tenant.settings,
    rateLimitPerMinute: found.key.rateLimitPerMinute,
    platformAdmin: found.tenant.id === PLATFORM_TENANT && found.key.scopes.includes('admin'),
  };
}

function unauthorized(code: string, message: string): PlatformError {
  return new PlatformError(code, message, 401, undefined, { 'www-authenticate': 'Bearer' });
}
