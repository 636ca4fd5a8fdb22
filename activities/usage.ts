import { activityInfo } from '@temporalio/activity';
import type { ModelCall } from '../lib/answer/types';
import type { UsageContext } from '../lib/query/types';
import { trace } from '@opentelemetry/api';
import type { UsageEvent, UsageLedger } from '../lib/stores/usage-ledger';
import { collectEmbeddingCalls, type EmbeddingCall } from '../lib/telemetry/usage-scope';

type Purpose = UsageEvent['purpose'];

/**
 * Writes the ledger rows of the calls an activity made, charged to who asked: one row per model
 * attempt (failed ones too) and per embedding call, with the workflow that made it.
 */
export class UsageRecorder {
  constructor(private readonly ledger: UsageLedger) {}

  /** Runs `work` and records every embedding call made inside it. */
  async embeddingsOf<T>(context: UsageContext | undefined, purpose: Purpose, work: () => Promise<T>): Promise<T> {
    const { result, calls } = await collectEmbeddingCalls(work);
    if (context) await this.ledger.record(calls.map((call) => this.embeddingEvent(context, purpose, call)));
    return result;
  }

  async chat(context: UsageContext | undefined, calls: ModelCall[], promptVersion: string): Promise<void> {
    if (!context) return;
    await this.ledger.record(
      calls.map((call) => ({
        ...this.base(context, 'query'),
        operation: 'chat',
        provider: call.provider,
        model: call.model,
        inputTokens: call.inputTokens,
        outputTokens: call.outputTokens,
        costUsd: call.costUsd,
        latencyMs: call.latencyMs,
        outcome: call.outcome,
        promptVersion,
      })),
    );
  }

  private embeddingEvent(context: UsageContext, purpose: Purpose, call: EmbeddingCall): UsageEvent {
    return { ...this.base(context, purpose), operation: 'embeddings', provider: call.provider, model: call.model, inputTokens: call.inputTokens, outputTokens: 0, costUsd: call.costUsd, latencyMs: call.latencyMs, outcome: call.outcome };
  }

  private base(context: UsageContext, purpose: Purpose) {
    return { tenantId: context.tenantId, keyId: context.keyId, collection: context.collection, requestId: context.requestId, traceId: context.traceId ?? activeTraceId(), purpose, workflowId: activityInfo().workflowExecution?.workflowId ?? null };
  }
}

/** The trace of the running activity, when tracing is on (ingestion runs continue their upload's trace). */
function activeTraceId(): string | null {
  const span = trace.getActiveSpan()?.spanContext();
  return span && span.traceId !== '00000000000000000000000000000000' ? span.traceId : null;
}
