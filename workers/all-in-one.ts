import closeWithGrace from 'close-with-grace';
import { Client } from '@temporalio/client';
import { startApi } from '../api/server';
import { loadConfig } from '../lib/config';
import { openPlatform } from '../lib/platform';
import { serveConfiguredMetrics } from '../lib/telemetry/metrics-server';
import { installTemporalRuntime } from '../lib/telemetry/temporal-runtime';
import { createPlatformWorkers } from './platform-workers';

/**
 * API and workers in one process over one set of stores: the zero-setup default, since the
 * embedded database and index belong to a single process.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  installTemporalRuntime(config);
  const platform = await openPlatform(config);
  const workers = await createPlatformWorkers(platform, { address: config.TEMPORAL_ADDRESS });
  const running = workers.run();
  // The API shares the workers' connection, so query runs start eagerly on this process's query worker.
  const app = await startApi(platform, new Client({ connection: workers.connection, namespace: config.TEMPORAL_NAMESPACE }));
  const metrics = await serveConfiguredMetrics(platform.metrics, config, (message) => app.log.info(message));
  app.log.info(`API on http://${config.HTTP_HOST}:${config.HTTP_PORT} (OpenAPI UI at /docs); Temporal UI at ${config.TEMPORAL_UI_URL}`);
  // A stop (Ctrl-C, SIGTERM) must finish within 10 s: what has not drained by 8 s is cut off.
  closeWithGrace({ delay: 8_000 }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after error');
    await metrics?.close();
    await app.close();
    await workers.shutdown();
    await running;
    await platform.close();
  });
  await running;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
