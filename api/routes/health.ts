import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import type { Platform } from '../../lib/platform';
import { promptly } from '../services/orchestrator-unavailable';

const CHECK_TIMEOUT_MS = 2_000;

/** A check that answers within the timeout, or says why not. */
async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)))]);
    return 'ok';
  } catch (error) {
    return `unavailable: ${(error as Error).message.split('\n')[0]?.slice(0, 200)}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database, Temporal and
 * the vector index answer, each named with what is wrong): a load balancer sends traffic only to
 * a ready instance, and an operator sees what is missing. Both public, as probes are.
 */
export const healthRoutes: FastifyPluginAsync<{ platform: Platform; temporal: Client }> = async (app, { platform, temporal }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const [database, orchestrator, index] = await Promise.all([
      check(() => platform.db.query('select 1')),
      check(() => promptly(temporal, () => temporal.workflowService.getSystemInfo({}), CHECK_TIMEOUT_MS)),
      check(() => platform.index.spaces()),
    ]);
    const checks = { database, temporal: orchestrator, index };
    const ready = Object.values(checks).every((c) => c === 'ok');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
};
