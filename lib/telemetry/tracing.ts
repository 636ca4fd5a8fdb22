import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export interface TracingConfig {
  /** OTLP/HTTP base URL (`/v1/traces` is appended); unset: nothing is recorded or exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_SERVICE_NAME: string;
  TRACING_SAMPLE_RATIO: number;
}

/** The process's tracing: off (the default) registers nothing, so every span is the API's no-op. */
export interface Tracing {
  enabled: boolean;
  /** Temporal client, workflow and activity interceptors, and the sink that exports workflow spans. */
  temporalPlugin: OpenTelemetryPlugin | null;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, temporalPlugin: null, flush: async () => {}, shutdown: async () => {} };

let started: Tracing | null = null;

/**
 * OpenTelemetry for this process, once: a tracer provider with the W3C propagator and an async
 * context manager, OTLP/HTTP export in batches, HTTP client spans for provider and Qdrant calls
 * (fetch is undici), and the Temporal plugin over the same span processor. A second call returns
 * the first one's tracing (a process has one global provider).
 */
export function startTracing(config: TracingConfig): Tracing {
  if (started) return started;
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return OFF;
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME });
  const processor: SpanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` }), { scheduledDelayMillis: 1_000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor], sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.TRACING_SAMPLE_RATIO) }) });
  provider.register();
  const unregister = registerInstrumentations({ tracerProvider: provider, instrumentations: [new UndiciInstrumentation()] });
  started = {
    enabled: true,
    temporalPlugin: new OpenTelemetryPlugin({ resource, spanProcessor: processor }),
    flush: () => provider.forceFlush(),
    async shutdown() {
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      started = null;
    },
  };
  return started;
}

/** The platform's own spans (model calls, index and database calls). */
export function platformTracer(): Tracer {
  return trace.getTracer('rag-platform');
}
