import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { platformTracer } from './tracing';

/**
 * The same object, with a client span around each call of the named methods: the database and
 * the vector index get spans whatever backend serves them (PGlite has no instrumentation of its
 * own; Qdrant's HTTP calls get theirs from undici, under these). Used only when tracing is on.
 */
export function traced<T extends object>(target: T, component: string, methods: readonly (keyof T & string)[], attributes: Attributes, describe?: (method: string, args: unknown[]) => Attributes): T {
  const wrapped = new Set<string>(methods);
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof property !== 'string' || !wrapped.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        platformTracer().startActiveSpan(`${component}.${property}`, { kind: SpanKind.CLIENT, attributes: { ...attributes, ...describe?.(property, args) } }, async (span) => {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message?.slice(0, 200) });
            throw error;
          } finally {
            span.end();
          }
        });
    },
  });
}
