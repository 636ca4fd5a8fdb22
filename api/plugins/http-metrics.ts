import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../../lib/telemetry/metrics';

/**
 * Request duration per route template and status. Requests that match no route share one label,
 * so scanners probing random paths cannot add series.
 */
export const httpMetrics = fp(async (app: FastifyInstance, { metrics }: { metrics: Metrics }) => {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { http_request_method: request.method, http_route: request.routeOptions.url ?? 'unmatched', http_response_status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
});
