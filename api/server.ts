import { Client, Connection } from '@temporalio/client';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../lib/config';
import { openPlatform, type Platform } from '../lib/platform';
import { serveConfiguredMetrics } from '../lib/telemetry/metrics-server';
import { buildApp } from './app';

export async function connectTemporal(address: string, namespace: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }), namespace });
}

/** Builds the app over an open platform and listens. The Temporal connection stays its owner's to close. */
export async function startApi(platform: Platform, temporal: Client): Promise<FastifyInstance> {
  // Keys never reach the logs, even if request headers are logged one day.
  const logger = { level: process.env.LOG_LEVEL ?? 'info', redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] };
  const app = await buildApp({ platform, temporal, logger });
  await app.listen({ host: platform.config.HTTP_HOST, port: platform.config.HTTP_PORT });
  return app;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const platform = await openPlatform(config);
  const temporal = await connectTemporal(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
  const app = await startApi(platform, temporal);
  const metrics = await serveConfiguredMetrics(platform.metrics, config, (message) => app.log.info(message));
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after error');
    await metrics?.close();
    await app.close();
    await temporal.connection.close();
    await platform.close();
  });
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
