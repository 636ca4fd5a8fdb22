import { randomBytes } from 'node:crypto';
import { isSpanContextValid } from '@opentelemetry/api';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

export interface TraceContext {
  traceId: string;
  /** This request's span: the parent of everything it starts. */
  spanId: string;
  sampled: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    traceContext: TraceContext;
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** W3C trace context: a caller's valid `traceparent`, else none. */
export function parseTraceparent(header: unknown): { traceId: string; parentId: string; sampled: boolean } | null {
  const match = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  if (!match) return null;
  const [, traceId, parentId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { traceId, parentId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export const formatTraceparent = ({ traceId, spanId, sampled }: TraceContext) => `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;

/** Streams write their own head: they take the header from here. */
export const traceparentHeader = (reply: FastifyReply) => ({ traceparent: formatTraceparent(reply.request.traceContext) });

/**
 * One trace per request. Tracing on: @fastify/otel opens the request span (continuing a caller's
 * `traceparent`), and everything the handler starts is its child. Tracing off: no span exists,
 * but a caller's trace id is still kept (else a fresh one made), so answers, the usage ledger and
 * the `traceparent` returned on every response name the same trace either way.
 */
export const traceContext = fp(async (app: FastifyInstance, { tracing }: { tracing: boolean }) => {
  // Lifecycle hooks get no spans of their own: the request and its handler are what an operator reads.
  if (tracing) await app.register(new FastifyOtelInstrumentation({ instrumentHooks: false }).plugin());
  app.decorateRequest('traceContext', null as unknown as TraceContext);
  app.addHook('onRequest', async (request, reply) => {
    const span = tracing ? request.opentelemetry().span : undefined;
    const recorded = span?.spanContext();
    if (recorded && isSpanContextValid(recorded)) {
      request.traceContext = { traceId: recorded.traceId, spanId: recorded.spanId, sampled: (recorded.traceFlags & 1) === 1 };
    } else {
      const caller = parseTraceparent(request.headers.traceparent);
      request.traceContext = { traceId: caller?.traceId ?? randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), sampled: caller?.sampled ?? false };
    }
    reply.header('traceparent', formatTraceparent(request.traceContext));
  });
});
