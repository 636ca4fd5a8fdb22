import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics';

/**
 * `GET /metrics` on a port of its own, apart from the API: operators decide who reaches it (bind
 * address, network policy), and a worker-only process has no other listener to serve it from.
 */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}\n`),
    );
  });
  await new Promise<void>((listening, failed) => server.once('error', failed).listen(port, host, () => listening()));
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${bound}/metrics`,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

/** Serves the process's metrics when METRICS_PORT is set; logs where. */
export async function serveConfiguredMetrics(metrics: Metrics, config: { METRICS_HOST: string; METRICS_PORT: number }, log: (message: string) => void): Promise<{ close(): Promise<void> } | null> {
  if (config.METRICS_PORT === 0) return null;
  const served = await serveMetrics(metrics, config.METRICS_HOST, config.METRICS_PORT);
  log(`Prometheus metrics at ${served.url}`);
  return served;
}
