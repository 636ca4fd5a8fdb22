import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { platformTracer } from './tracing';

export interface GenAiSpanStart {
  operation: 'chat' | 'embeddings';
  provider: string;
  requestModel: string;
  /** Other attributes known up front (the candidate's configured name, max tokens). */
  attributes?: Record<string, string | number>;
}

export interface GenAiSpanEnd {
  responseModel?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Set on failure: the kind of failure, never a message. */
  errorType?: string;
}

/**
 * A model call's span, named and attributed as the OpenTelemetry GenAI conventions say
 * (`{operation} {model}`, `gen_ai.*`). With tracing off the tracer is the API's no-op.
 */
export async function inGenAiSpan<T>(start: GenAiSpanStart, work: (end: (result: GenAiSpanEnd) => void) => Promise<T>): Promise<T> {
  return platformTracer().startActiveSpan(
    `${start.operation} ${start.requestModel}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'gen_ai.operation.name': start.operation, 'gen_ai.provider.name': start.provider, 'gen_ai.request.model': start.requestModel, ...start.attributes },
    },
    async (span: Span) => {
      let ended = false;
      const end = (result: GenAiSpanEnd) => {
        if (ended) return;
        ended = true;
        if (result.responseModel) span.setAttribute('gen_ai.response.model', result.responseModel);
        if (result.inputTokens !== undefined) span.setAttribute('gen_ai.usage.input_tokens', result.inputTokens);
        if (result.outputTokens !== undefined) span.setAttribute('gen_ai.usage.output_tokens', result.outputTokens);
        if (result.errorType) {
          span.setAttribute('error.type', result.errorType);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      };
      try {
        return await work(end);
      } catch (error) {
        end({ errorType: (error as { kind?: string }).kind ?? 'error' });
        throw error;
      } finally {
        end({});
      }
    },
  );
}
