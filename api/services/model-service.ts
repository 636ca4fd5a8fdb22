import type { ChatModelConfig } from '../../lib/models/router';
import type { UsageLedger } from '../../lib/stores/usage-ledger';
import { MIN_CALLS } from '../../lib/models/measured-latency';
import type { Caller } from '../plugins/auth';

const DAY_MS = 86_400_000;

/**
 * The model registry: each configured chat model with its context window, prices and
 * capabilities, the latency measured from its real calls over the last day (the usage ledger),
 * and whether the caller's tenant may be routed to it.
 */
export class ModelService {
  constructor(
    private readonly models: readonly ChatModelConfig[],
    private readonly ledger: Pick<UsageLedger, 'chatLatencies'>,
    private readonly now: () => number = Date.now,
  ) {}

  async list(caller: Caller) {
    const measured = await this.ledger.chatLatencies(new Date(this.now() - DAY_MS), 1);
    const allowed = caller.principal.settings.models.allowed;
    return this.models.map((model) => {
      const latency = measured.get(model.name);
      return {
        name: model.name,
        provider: model.kind,
        model: model.model,
        tasks: model.tasks,
        // Every provider here is asked for the answer's JSON schema (constrained decoding where it has it) and streams.
        capabilities: ['json_schema', 'streaming'],
        contextTokens: model.contextTokens,
        maxOutputTokens: model.maxOutputTokens,
        prices: { inputPerMillionUsd: model.costPerMillionInputUsd, outputPerMillionUsd: model.costPerMillionOutputUsd },
        configuredLatencyMs: model.typicalLatencyMs,
        measuredLatencyMs: latency ? { p50: latency.p50, p95: latency.p95, calls: latency.calls, usedForRouting: latency.calls >= MIN_CALLS } : null,
        allowed: !allowed || allowed.includes(model.name),
      };
    });
  }
}
