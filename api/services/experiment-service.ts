import { randomBytes } from 'node:crypto';
import { PlatformError } from '../../lib/errors';
import type { PromptRegistry } from '../../lib/prompts/prompt-registry';
import { ANSWER_PROMPT } from '../../lib/prompts/prompt-ref';
import type { AuditLog } from '../../lib/stores/audit-log';
import { collectionNotFound, type CollectionStore } from '../../lib/stores/collection-store';
import type { ExperimentState, ExperimentStore, Variant } from '../../lib/stores/experiment-store';
import type { Caller } from '../plugins/auth';

export interface NewExperiment {
  name: string;
  collection?: string;
  variants: Variant[];
}

const experimentNotFound = (id: string) => new PlatformError('experiment_not_found', `no experiment ${id}`, 404);

/**
 * A/B/n experiments on a tenant's answers, managed by its admins: created as drafts, started
 * (one running per collection scope), stopped for good. Results per variant come from the answer
 * log, with the counts behind every rate.
 */
export class ExperimentService {
  constructor(
    private readonly experiments: ExperimentStore,
    private readonly prompts: Pick<PromptRegistry, 'resolve'>,
    private readonly collections: Pick<CollectionStore, 'get'>,
    /** The configured chat model names a variant may prefer. */
    private readonly models: readonly string[],
    private readonly audit: AuditLog,
  ) {}

  async create(caller: Caller, body: NewExperiment) {
    const { tenantId, keyId } = caller.principal;
    if (body.collection && !(await this.collections.get(tenantId, body.collection))) throw collectionNotFound(body.collection);
    for (const variant of body.variants) {
      if (variant.promptLabel && !(await this.prompts.resolve(ANSWER_PROMPT, variant.promptLabel))) {
        throw new PlatformError('unknown_prompt_label', `variant ${variant.name}: prompt ${ANSWER_PROMPT} has no label "${variant.promptLabel}"`, 422, { variant: variant.name, label: variant.promptLabel });
      }
      if (variant.model && !this.models.includes(variant.model)) {
        throw new PlatformError('unknown_model', `variant ${variant.name}: no configured chat model ${variant.model} (configured: ${this.models.join(', ') || 'none'})`, 422, { variant: variant.name, model: variant.model });
      }
      const allowed = caller.principal.settings.models.allowed;
      if (variant.model && allowed && !allowed.includes(variant.model)) {
        throw new PlatformError('model_not_allowed', `variant ${variant.name}: this tenant may not use chat model ${variant.model} (allowed: ${allowed.join(', ') || 'none'})`, 422, { variant: variant.name, model: variant.model, allowed });
      }
    }
    const experiment = await this.experiments.create({ tenantId, id: `exp_${randomBytes(6).toString('hex')}`, name: body.name, collection: body.collection ?? null, variants: body.variants, createdBy: keyId });
    await this.record(caller, 'experiment_created', experiment.id, { name: experiment.name, collection: experiment.collection, variants: experiment.variants });
    return view(experiment);
  }

  async list(caller: Caller) {
    return (await this.experiments.list(caller.principal.tenantId)).map(view);
  }

  async get(caller: Caller, id: string) {
    const experiment = await this.experiments.get(caller.principal.tenantId, id);
    if (!experiment) throw experimentNotFound(id);
    return view(experiment);
  }

  async start(caller: Caller, id: string) {
    return this.move(caller, id, 'draft', 'running', 'experiment_started');
  }

  async stop(caller: Caller, id: string) {
    return this.move(caller, id, 'running', 'stopped', 'experiment_stopped');
  }

  /** Per variant: answers, rates with their counts, latency, tokens, cost and feedback. */
  async results(caller: Caller, id: string) {
    const experiment = await this.get(caller, id);
    const measured = new Map((await this.experiments.results(caller.principal.tenantId, id)).map((r) => [r.variant, r]));
    const variants = experiment.variants.map((variant) => {
      const r = measured.get(variant.name);
      const answers = r?.answers ?? 0;
      const rate = (n: number, of: number) => (of ? n / of : null);
      return {
        variant: variant.name,
        weight: variant.weight,
        answers,
        notFound: { count: r?.notFound ?? 0, rate: rate(r?.notFound ?? 0, answers) },
        repaired: { count: r?.repaired ?? 0, rate: rate(r?.repaired ?? 0, answers) },
        fellBack: { count: r?.fellBack ?? 0, rate: rate(r?.fellBack ?? 0, answers) },
        latencyMs: { p50: r?.latencyMsP50 ?? null, p95: r?.latencyMsP95 ?? null },
        tokens: { input: r?.inputTokens ?? 0, output: r?.outputTokens ?? 0 },
        costUsd: r?.costUsd ?? 0,
        feedback: { rated: r?.rated ?? 0, up: r?.up ?? 0, down: r?.down ?? 0, score: rate(r?.up ?? 0, r?.rated ?? 0) },
      };
    });
    return { experiment, variants };
  }

  private async move(caller: Caller, id: string, from: ExperimentState, to: ExperimentState, action: string) {
    const { tenantId } = caller.principal;
    const current = await this.experiments.get(tenantId, id);
    if (!current) throw experimentNotFound(id);
    let moved;
    try {
      moved = await this.experiments.transition(tenantId, id, from, to);
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      throw new PlatformError('experiment_already_running', `another experiment already runs on ${current.collection ? `collection ${current.collection}` : 'all collections'}; stop it first`, 409);
    }
    if (!moved) throw new PlatformError('invalid_experiment_state', `experiment ${id} is ${current.state}; only a ${from} one can be ${to === 'running' ? 'started' : 'stopped'}`, 409, { state: current.state });
    await this.record(caller, action, id, {});
    return view(moved);
  }

  private async record(caller: Caller, action: string, target: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.append({ tenantId: caller.principal.tenantId, actor: caller.principal.keyId, requestId: caller.requestId, category: 'admin', action, target, details });
  }
}

const view = ({ tenantId: _tenant, ...experiment }: Awaited<ReturnType<ExperimentStore['get']>> & object) => experiment;
