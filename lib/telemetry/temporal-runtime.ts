import { Runtime } from '@temporalio/worker';

/**
 * The Temporal SDK's worker metrics (task latencies, slots, poll results) through its own
 * Prometheus exporter, when TEMPORAL_METRICS_PORT is set. The runtime is installed once per
 * process, before the first worker connection, so this runs first in a process's main.
 */
export function installTemporalRuntime(config: { METRICS_HOST: string; TEMPORAL_METRICS_PORT: number }): void {
  if (config.TEMPORAL_METRICS_PORT === 0) return;
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: `${config.METRICS_HOST}:${config.TEMPORAL_METRICS_PORT}` } } } });
}
