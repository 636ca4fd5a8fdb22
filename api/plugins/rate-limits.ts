import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { PlatformError } from '../../lib/errors';

export interface RateLimitOptions {
  /** Requests per minute for a key that sets no limit of its own and whose tenant sets none. */
  defaultPerMinute: number;
  /** Shared counters for several API instances; in memory when absent. */
  redis?: Redis;
}

/**
 * Per-key request limits (@fastify/rate-limit), checked after the key is known and before the
 * body is read. The limit is the key's own, else its tenant's, else the deployment's default.
 */
export const rateLimits = fp(async (app: FastifyInstance, { defaultPerMinute, redis }: RateLimitOptions) => {
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    // Redis unreachable: requests go through unlimited rather than failing (the budgets fall back to per-instance counts).
    ...(redis && { redis, nameSpace: 'rag:rate:', skipOnError: true }),
    // Public routes (health, docs) have no principal and no limit here.
    allowList: (request) => !request.principal,
    keyGenerator: (request) => request.principal?.keyId ?? `${request.principal?.tenantId ?? 'anonymous'}:${request.ip}`,
    max: async (request) => request.principal?.rateLimitPerMinute ?? request.principal?.settings.rateLimit.requestsPerMinute ?? defaultPerMinute,
    errorResponseBuilder: (_request, context) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new PlatformError('rate_limited', `rate limit of ${context.max} requests per minute for this API key exceeded; retry in ${retryAfterSeconds} s`, 429, {
        reason: 'key_requests_per_minute',
        limit: context.max,
        retryAfterSeconds,
      });
    },
  });
});
