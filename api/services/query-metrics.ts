import type { GuardDecision } from '../../lib/guardrails/guard';
import type { Metrics } from '../../lib/telemetry/metrics';
import type { Answer, RetrieveAnswer } from './query-service';

/** What a finished query tells the metrics: stages, outcome, spend. The model calls themselves are measured where they run (the workers). */
export class QueryMetrics {
  constructor(private readonly metrics: Metrics) {}

  retrieved(tenantId: string, collection: string, result: RetrieveAnswer): void {
    const { embed, search, orchestration } = result.latencyMs;
    this.stages('retrieve', { embed, search, orchestration });
    this.metrics.retrievals.inc({ empty: String(result.chunks.length === 0), mode: 'retrieve', ...this.metrics.scope(tenantId, collection) });
  }

  answered(tenantId: string, collection: string, answer: Answer): void {
    const { embed, search, rerank, generate, orchestration } = answer.latencyMs;
    this.stages('answer', { embed, search, rerank, generate, orchestration });
    const scope = this.metrics.scope(tenantId, collection);
    const { calls } = answer.usage;
    this.metrics.retrievals.inc({ empty: String(answer.notFound?.reason === 'no_candidates'), mode: 'answer', ...scope });
    this.metrics.answers.inc({
      found: String(answer.found),
      reason: answer.notFound?.reason ?? '',
      answered_by: answer.answeredBy.provider,
      prompt_version: answer.promptVersion,
      repaired: String(calls.some((call) => call.outcome === 'invalid_output')),
      fell_back: String(answer.fallbacks.length > 0),
      ...scope,
    });
    for (const call of calls) {
      if (call.outcome === 'invalid_output') this.metrics.citationValidationFailures.inc({ provider: call.provider });
      if (call.costUsd > 0) this.metrics.costUsd.inc({ gen_ai_provider_name: call.provider, gen_ai_request_model: call.model, ...this.metrics.tenant(tenantId) }, call.costUsd);
    }
    // Each entry starts with the configured name of the candidate passed over.
    for (const fallback of answer.fallbacks) this.metrics.fallbacks.inc({ provider: /^[^\s:]+/.exec(fallback)?.[0] ?? 'unknown' });
  }

  guarded(decisions: GuardDecision[]): void {
    for (const { stage, check, outcome } of decisions) this.metrics.guardrailDecisions.inc({ stage, check, outcome });
  }

  private stages(mode: 'retrieve' | 'answer', stages: Record<string, number>): void {
    for (const [stage, ms] of Object.entries(stages)) this.metrics.stageDuration.observe({ stage, mode }, Math.max(0, ms) / 1000);
  }
}
