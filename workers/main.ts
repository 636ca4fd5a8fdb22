import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../lib/config';
import { openPlatform } from '../lib/platform';
import { serveConfiguredMetrics } from '../lib/telemetry/metrics-server';
import { installTemporalRuntime } from '../lib/telemetry/temporal-runtime';
import { createPlatformWorkers } from './platform-workers';

/** Worker-only process, for deployments where the API runs apart (Postgres + Qdrant). */
async function main(): Promise<void> {
  const config = loadConfig();
  installTemporalRuntime(config);
  const platform = await openPlatform(config);
  const metrics = await serveConfiguredMetrics(platform.metrics, config, (message) => console.log(message));
  const workers = await createPlatformWorkers(platform, { address: config.TEMPORAL_ADDRESS });
  closeWithGrace({ delay: 30_000 }, async () => workers.shutdown());
  await workers.run();
  await metrics?.close();
  await platform.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
