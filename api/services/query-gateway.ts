import { randomUUID } from 'node:crypto';
import type { StreamEvent } from '../../lib/answer/answer-stream';
import type { AnswerCache, AnswerCacheMode, CacheHit, CacheMiss } from '../../lib/cache/answer-cache';
import { PlatformError } from '../../lib/errors';
import type { CostCeiling, CostHold } from '../../lib/gateway/cost-ceiling';
import type { Reservation, TokenBudget } from '../../lib/gateway/token-budget';
import { guardAnswer, guardQuestion, retrievalDecision, type GuardDecision } from '../../lib/guardrails/guard';
import { MaskingStream } from '../../lib/guardrails/masking-stream';
import type { RetrieveInput } from '../../lib/query/types';
import { estimateTokens } from '../../lib/text/estimate-tokens';
import { assignVariant } from '../../lib/experiments/assignment';
import type { ExperimentStore } from '../../lib/stores/experiment-store';
import type { PromptRegistry } from '../../lib/prompts/prompt-registry';
import { ANSWER_PROMPT, DEFAULT_LABEL, type PromptRef } from '../../lib/prompts/prompt-ref';
import type { AnswerLog } from '../../lib/stores/answer-log';
import type { AuditLog } from '../../lib/stores/audit-log';
import type { UsageLedger } from '../../lib/stores/usage-ledger';
import { collectEmbeddingCalls } from '../../lib/telemetry/usage-scope';
import type { Caller } from '../plugins/auth';
import type { CollectionService } from './collection-service';
import type { QueryMetrics } from './query-metrics';
import type { Answer, AnswerRequest, QueryService, RetrieveAnswer } from './query-service';

export interface QueryGatewayOptions {
  queries: QueryService;
  /** Admission: the collection exists, filters name keys it knows, its relevance floor. */
  collections: Pick<CollectionService, 'admitQuery'>;
  audit: AuditLog;
  /** Null: token budgets are off (RATE_LIMITS=off). */
  budget: TokenBudget | null;
  /** Null: cost ceilings are off (RATE_LIMITS=off). */
  ceiling: CostCeiling | null;
  /** USD per million tokens of the dearest chat candidate: any of them may end up answering. */
  prices: { inputPerMillionUsd: number; outputPerMillionUsd: number };
  guardrails: 'on' | 'off';
  /** For the estimate reserved before an answer: chunk size of the context and the model's reply. */
  estimate: { chunkTokens: number; outputTokens: number; promptTokens: number };
  metrics?: QueryMetrics;
  /** Null: answers are not cached (ANSWER_CACHE=off). */
  cache: { answers: AnswerCache; mode: AnswerCacheMode; settings: unknown } | null;
  /** Where the semantic lookup's embedding of the question is charged (the runs write their own rows). */
  ledger?: Pick<UsageLedger, 'record'>;
  /** Where every served answer is kept, so feedback can be tied to it. */
  answers?: Pick<AnswerLog, 'record'>;
  /** Resolves the prompt label an answer asks for to the version it renders. */
  prompts: Pick<PromptRegistry, 'resolve'>;
  /** Finds the running experiment an answer falls in. */
  experiments?: Pick<ExperimentStore, 'runningFor'>;
}

export type Question = RetrieveInput & {
  mode: 'retrieve' | 'answer';
  /** Answers: the prompt label to answer with (default: production). Naming one keeps the answer out of experiments. */
  promptLabel?: string;
  /** Answers: the user or session an experiment assigns (the same one always gets the same variant). */
  subject?: string;
};

/** Where an answer fell in a running experiment. */
export interface Assignment {
  id: string;
  variant: string;
  /** Assigned by the caller's subject; false: by this request alone (no subject given). */
  sticky: boolean;
}

/** What a caller may ask of the answer cache for one request. */
export type CacheRequest = 'on' | 'off';

/** How an answer relates to the cache: served from it (with the run that made it), or not. */
export type CacheOutcome =
  | { hit: 'miss' | 'off' }
  | { hit: 'exact' | 'semantic'; ageSeconds: number; traceId: string; matchedQuestion?: string; similarity?: number };

export type GatewayAnswer = Answer & {
  /** This serving of the answer (a cached answer served again has an id of its own): what feedback names. */
  answerId: string;
  /** The prompt version it was answered with, and the label that chose it. */
  prompt: PromptRef;
  /** The experiment variant it was served under; null outside experiments. */
  experiment: Assignment | null;
  guardrails: GuardDecision[];
  cache: CacheOutcome;
};

type UnloggedAnswer = Omit<GatewayAnswer, 'answerId' | 'prompt' | 'experiment'>;


/** A question past the input guard, with its tokens reserved: what a run starts from. */
export interface Admitted {
  caller: Caller;
  input: Question;
  /** Cleaned and masked: what retrieval, the model and the workflow history see. */
  question: string;
  decisions: GuardDecision[];
  estimate: number;
  reservation: Reservation | null;
  /** The estimated spend held against the tenant's daily cost ceiling. */
  hold: CostHold | null;
  /** The collection's own floor; null: the deployment's default. */
  relevanceFloor: number | null;
  /** What the collection serves right now: part of the answer cache's key. */
  contentVersion: string;
  /** The live generation the question is answered from. */
  generation: number | null;
  /** Answers: the prompt version the label resolved to (null for retrievals). */
  prompt: PromptRef | null;
  /** Answers in a running experiment: the variant, and the model it routes first. */
  experiment: (Assignment & { preferredModel?: string }) | null;
}

/**
 * The gateway around a query: input guard (injection, hidden characters, personal data), token
 * budget reserved on the estimate, the workflow, output guard (personal data), the budget
 * settled on actual tokens, and every guardrail decision written to the audit log.
 */
export class QueryGateway {
  constructor(private readonly options: QueryGatewayOptions) {}

  async retrieve(caller: Caller, input: RetrieveInput): Promise<RetrieveAnswer> {
    return this.complete(await this.admit(caller, { ...input, mode: 'retrieve' }), async (question) => {
      const result = await this.options.queries.retrieve({ ...input, question, caller: usageCaller(caller) });
      this.options.metrics?.retrieved(caller.principal.tenantId, input.collection, result);
      return { result, actualTokens: estimateTokens(question) };
    });
  }

  async answer(caller: Caller, input: AnswerRequest & { promptLabel?: string; subject?: string }, cache: CacheRequest = 'on'): Promise<GatewayAnswer> {
    const admitted = await this.admit(caller, { ...input, mode: 'answer' });
    const lookup = await this.lookUp(admitted, cache);
    if ('answer' in lookup) return this.log(admitted, await this.serveCached(admitted, lookup.hit, lookup.ms));
    const answer = await this.complete(admitted, async (question, decisions) => {
      const answer = await this.options.queries.answer(this.answerInput(admitted, input, question));
      return this.remember(lookup, this.finish(caller, input.collection, answer, question, decisions));
    });
    return this.log(admitted, answer);
  }

  /** Streams an admitted question: refusals (400, 429) were answered before the stream began. A cached answer streams sentence by sentence. */
  async streamAnswer(admitted: Admitted, input: AnswerRequest & { promptLabel?: string; subject?: string }, events: { onEvent: (event: StreamEvent) => void; closed: AbortSignal }, cache: CacheRequest = 'on'): Promise<GatewayAnswer> {
    const { caller } = admitted;
    const lookup = await this.lookUp(admitted, cache);
    if ('answer' in lookup) {
      const served = await this.serveCached(admitted, lookup.hit, lookup.ms);
      sentencesOf(served.answer).forEach((text, seq) => events.onEvent({ seq, type: 'delta', text }));
      return this.log(admitted, served);
    }
    const answer = await this.complete(admitted, async (question, decisions) => {
      const masking = this.guardrailsOn && caller.principal.settings.guardrails.pii.answer === 'mask';
      let seq = 0;
      const stream = masking ? new MaskingStream(caller.principal.settings.guardrails.pii.entities, (text) => events.onEvent({ seq, type: 'delta', text })) : null;
      const answer = await this.options.queries.streamAnswer(this.answerInput(admitted, input, question), {
        closed: events.closed,
        onEvent: (event) => {
          if (!stream) return events.onEvent(event);
          seq = event.seq;
          if (event.type === 'delta') return stream.push(event.text);
          stream.discard();
          events.onEvent(event);
        },
      });
      stream?.flush();
      return this.remember(lookup, this.finish(caller, input.collection, answer, question, decisions));
    });
    return this.log(admitted, answer);
  }

  /** The collection and its filter keys, the input guard, then the token estimate reserved: a refusal here is a 4xx before any work. */
  async admit(caller: Caller, input: Question): Promise<Admitted> {
    const { principal } = caller;
    const { relevanceFloor, contentVersion, generation } = await this.options.collections.admitQuery(principal.tenantId, input.collection, input.filters ?? {});
    // Before anything is reserved: an unknown prompt label is refused with nothing to give back.
    const experiment = input.mode === 'answer' ? await this.assign(caller, input) : null;
    const prompt = input.mode === 'answer' ? await this.resolvePrompt(experiment?.promptLabel ?? input.promptLabel ?? DEFAULT_LABEL) : null;
    const assignment = experiment && { id: experiment.id, variant: experiment.variant, sticky: experiment.sticky, ...(experiment.model && { preferredModel: experiment.model }) };
    const decisions: GuardDecision[] = [];
    let question = input.question;
    if (this.guardrailsOn) {
      const guarded = guardQuestion(input.question, principal.settings.guardrails);
      decisions.push(...guarded.decisions);
      question = guarded.question;
      if (guarded.blocked) {
        await this.record(caller, input, 'question_blocked', decisions, null);
        const rules = guarded.decisions.find((d) => d.check === 'prompt_injection')?.details?.rules;
        throw new PlatformError('prompt_injection_detected', 'the question tries to change the instructions of the assistant; rephrase it as a question about the documents', 400, { rules });
      }
      if (question.trim() === '') throw new PlatformError('invalid_request', 'the question is empty once hidden characters are removed', 400);
    }
    const { chunkTokens, promptTokens, outputTokens } = this.options.estimate;
    const estimate = estimateTokens(question) + (input.mode === 'answer' ? input.topK * chunkTokens + promptTokens + outputTokens : 0);
    const { inputPerMillionUsd, outputPerMillionUsd } = this.options.prices;
    const estimateUsd = input.mode === 'answer' ? ((estimate - outputTokens) * inputPerMillionUsd + outputTokens * outputPerMillionUsd) / 1e6 : 0;
    const hold = (await this.options.ceiling?.hold(principal.tenantId, principal.settings.budgets.costUsdPerDay, estimateUsd)) ?? null;
    let reservation: Reservation | null = null;
    try {
      reservation = this.options.budget ? await this.options.budget.reserve(principal.tenantId, principal.settings.budgets, estimate) : null;
    } catch (error) {
      await this.options.ceiling?.release(hold);
      throw error;
    }
    return { caller, input, question, decisions, estimate, reservation, hold, relevanceFloor, contentVersion, generation, prompt, experiment: assignment };
  }

  /**
   * The answer cache, after the input guard and the admission: the masked question in the scope of
   * everything else the answer depends on. The caller, the tenant and the deployment can each turn
   * it down (off, or exact only).
   */
  private async lookUp(admitted: Admitted, request: CacheRequest): Promise<{ answer: true; hit: CacheHit; ms: number } | { miss: CacheMiss; ms: number }> {
    const started = performance.now();
    const cache = this.options.cache;
    const { tenantId, keyId, settings } = admitted.caller.principal;
    const mode = request === 'off' || !cache ? 'off' : narrower(cache.mode, settings.cache.answers);
    if (!cache || mode === 'off') return { miss: { hit: 'off' }, ms: 0 };
    const { input, question, relevanceFloor, contentVersion } = admitted;
    const scope = {
      tenantId,
      collection: input.collection,
      contentVersion,
      filters: input.filters ?? {},
      topK: input.topK,
      mode: input.mode,
      // The prompt version, not the label: labels pointing at one version share its answers.
      settings: { deployment: cache.settings, relevanceFloor, guardrails: this.guardrailsOn ? settings.guardrails : 'off', prompt: admitted.prompt && { name: admitted.prompt.name, version: admitted.prompt.version }, preferredModel: admitted.experiment?.preferredModel ?? null, allowedModels: settings.models.allowed },
    };
    const { result, calls } = await collectEmbeddingCalls(() => cache.answers.lookup(scope, question, { mode, threshold: settings.cache.semanticThreshold }));
    const { requestId, traceId } = admitted.caller;
    await this.options.ledger?.record(
      calls.map((call) => ({ ...call, tenantId, keyId, collection: input.collection, purpose: 'query', operation: 'embeddings', outputTokens: 0, requestId, traceId, workflowId: null })),
    );
    const ms = performance.now() - started;
    return 'answer' in result ? { answer: true, hit: result, ms } : { miss: result, ms };
  }

  /** A cached answer: nothing spent (the reservation and the hold go back), this request's input decisions, the original run's trace. */
  private async serveCached(admitted: Admitted, hit: CacheHit, ms: number): Promise<UnloggedAnswer> {
    const { caller, input, decisions, estimate, reservation, hold } = admitted;
    await this.options.ceiling?.release(hold);
    if (reservation) await this.options.budget?.settle(reservation, 0);
    const { answerId: _original, ...stored } = hit.answer as GatewayAnswer;
    const cache: CacheOutcome = {
      hit: hit.hit,
      ageSeconds: hit.ageSeconds,
      traceId: stored.traceId,
      ...(hit.hit === 'semantic' && { matchedQuestion: hit.matchedQuestion, similarity: hit.similarity }),
    };
    if (this.guardrailsOn) {
      decisions.push(...stored.guardrails.filter((decision) => decision.stage !== 'input' && decision.check !== 'answer_cache'));
      // The audit log keeps no question text: not the matched question either.
      const { matchedQuestion: _text, ...details } = { matchedQuestion: undefined, ...cache };
      decisions.push({ stage: 'output', check: 'answer_cache', outcome: 'pass', details });
      await this.record(caller, input, 'query_guarded', decisions, { estimated: estimate, actual: 0, reserved: reservation !== null, cache: hit.hit });
    }
    const total = Math.round(ms * 10) / 10;
    return {
      ...stored,
      traceId: caller.traceId,
      guardrails: this.guardrailsOn ? decisions : [],
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: [] },
      latencyMs: { embed: 0, search: 0, rerank: 0, generate: 0, orchestration: 0, cache: total, total },
      cache,
    };
  }

  /** Keeps an answer for the next asker, unless it came from a fallback (a failing provider's stand-in is not worth repeating). */
  private async remember(lookup: { miss: CacheMiss; ms: number }, finished: { result: Answer & { guardrails: GuardDecision[] }; actualTokens: number }) {
    const { result } = finished;
    if (result.fallbacks.length === 0) await this.options.cache?.answers.remember(lookup.miss, result);
    const latencyMs = { ...result.latencyMs, cache: Math.round(lookup.ms * 10) / 10 };
    return { ...finished, result: { ...result, latencyMs, cache: { hit: lookup.miss.hit } as CacheOutcome } };
  }

  /** Gives the served answer its id and keeps it (as the asker saw it, masked where the output guard masked) for feedback. */
  private async log(admitted: Admitted, served: UnloggedAnswer & { prompt?: PromptRef; experiment?: Assignment | null }): Promise<GatewayAnswer> {
    const answerId = randomUUID();
    const { principal } = admitted.caller;
    // A cached answer was made with the same version (it is part of the cache scope), maybe under another label.
    const { prompt: _stored, experiment: _storedExperiment, ...answer } = served;
    const prompt = admitted.prompt as PromptRef;
    const { preferredModel: _model, ...experiment } = admitted.experiment ?? { preferredModel: undefined };
    const assignment = admitted.experiment ? (experiment as Assignment) : null;
    await this.options.answers?.record({
      tenantId: principal.tenantId,
      id: answerId,
      keyId: principal.keyId,
      collection: admitted.input.collection,
      question: admitted.question,
      found: answer.found,
      answer: answer.answer,
      citations: answer.citations.map(({ documentId, version, chunkId, page }) => ({ documentId, version, chunkId, page })),
      provider: answer.answeredBy.provider,
      model: answer.answeredBy.model,
      promptVersion: answer.promptVersion,
      promptLabel: prompt.label,
      experimentId: assignment?.id ?? null,
      variant: assignment?.variant ?? null,
      repairs: answer.usage.calls.filter((call) => call.outcome === 'invalid_output').length,
      inputTokens: answer.usage.inputTokens,
      outputTokens: answer.usage.outputTokens,
      generation: admitted.generation,
      cacheHit: answer.cache.hit,
      fallbacks: answer.fallbacks.length,
      latencyMs: answer.latencyMs.total,
      costUsd: answer.usage.costUsd,
      traceId: admitted.caller.traceId,
      workflowId: answer.workflowId,
    });
    return { answerId, ...answer, prompt, experiment: assignment };
  }

  /** The running experiment's variant for this answer; none when the caller named a prompt label itself. */
  private async assign(caller: Caller, input: Question) {
    if (input.promptLabel || !this.options.experiments) return null;
    const experiment = await this.options.experiments.runningFor(caller.principal.tenantId, input.collection);
    if (!experiment) return null;
    const variant = assignVariant(experiment.id, input.subject ?? caller.requestId, experiment.variants);
    return { id: experiment.id, variant: variant.name, sticky: input.subject !== undefined, promptLabel: variant.promptLabel, model: variant.model };
  }

  private async resolvePrompt(label: string): Promise<PromptRef> {
    const prompt = await this.options.prompts.resolve(ANSWER_PROMPT, label);
    if (!prompt) throw new PlatformError('unknown_prompt_label', `prompt ${ANSWER_PROMPT} has no label "${label}"; GET /v1/prompts/${ANSWER_PROMPT} lists its labels`, 422, { prompt: ANSWER_PROMPT, label });
    return prompt;
  }

  private get guardrailsOn(): boolean {
    return this.options.guardrails === 'on';
  }

  private answerInput({ caller, relevanceFloor, prompt, experiment }: Admitted, { promptLabel: _label, subject: _subject, ...input }: AnswerRequest & { promptLabel?: string; subject?: string }, question: string): AnswerRequest {
    return {
      ...input,
      question,
      ...(prompt && { prompt }),
      ...(experiment?.preferredModel && { preferredModel: experiment.preferredModel }),
      ...(caller.principal.settings.models.allowed && { allowedModels: caller.principal.settings.models.allowed }),
      caller: usageCaller(caller),
      ...(relevanceFloor !== null && { relevanceFloor }),
      ...(this.guardrailsOn && { retrievedInstructions: caller.principal.settings.guardrails.retrievedInstructions }),
    };
  }

  /** Output guard, and the tokens the answer really took (model calls, plus embedding the question). */
  private finish(caller: Caller, collection: string, answer: Answer, question: string, decisions: GuardDecision[]) {
    this.options.metrics?.answered(caller.principal.tenantId, collection, answer);
    const guardrails = caller.principal.settings.guardrails;
    const actualTokens = estimateTokens(question) + answer.usage.inputTokens + answer.usage.outputTokens;
    if (!this.guardrailsOn) return { result: { ...answer, guardrails: [] }, actualTokens };
    decisions.push(retrievalDecision(answer.instructionChunks ?? [], guardrails.retrievedInstructions));
    decisions.push({
      stage: 'output',
      check: 'answer_validation',
      outcome: 'pass',
      details: { answeredBy: `${answer.answeredBy.provider}/${answer.answeredBy.model}`, found: answer.found, citations: answer.citations.length, fallbacks: answer.fallbacks.length },
    });
    const output = guardAnswer(answer, guardrails);
    decisions.push(output.decision);
    return { result: { ...output.answer, guardrails: decisions }, actualTokens };
  }

  /** Runs the admitted question, settles the reservation on the actual tokens, records the decisions. */
  private async complete<T>(admitted: Admitted, run: (question: string, decisions: GuardDecision[]) => Promise<{ result: T; actualTokens: number }>): Promise<T> {
    const { caller, input, question, decisions, estimate, reservation, hold } = admitted;
    let outcome: Awaited<ReturnType<typeof run>>;
    try {
      outcome = await run(question, decisions);
    } catch (error) {
      // Refused before any model ran (unknown collection, bad filter): nothing was spent.
      if (reservation && PlatformError.isInstance(error)) await this.options.budget?.settle(reservation, 0);
      throw error;
    } finally {
      // Whatever was spent is in the usage ledger now, which the ceiling reads.
      await this.options.ceiling?.release(hold);
    }
    if (reservation) await this.options.budget?.settle(reservation, outcome.actualTokens);
    if (this.guardrailsOn) await this.record(caller, input, 'query_guarded', decisions, { estimated: estimate, actual: outcome.actualTokens, reserved: reservation !== null });
    return outcome.result;
  }

  private async record(caller: Caller, input: Question, action: string, decisions: GuardDecision[], tokens: Record<string, unknown> | null): Promise<void> {
    this.options.metrics?.guarded(decisions);
    await this.options.audit.append({
      tenantId: caller.principal.tenantId,
      actor: caller.principal.keyId,
      requestId: caller.requestId,
      category: 'guardrail',
      action,
      target: input.collection,
      details: { mode: input.mode, decisions, ...(tokens && { tokens }) },
    });
  }
}

/** What the usage ledger charges a query's calls to. */
const usageCaller = (caller: Caller) => ({ keyId: caller.principal.keyId, requestId: caller.requestId, traceId: caller.traceId });

const CACHE_MODES: AnswerCacheMode[] = ['off', 'exact', 'semantic'];
const narrower = (a: AnswerCacheMode, b: AnswerCacheMode): AnswerCacheMode => CACHE_MODES[Math.min(CACHE_MODES.indexOf(a), CACHE_MODES.indexOf(b))] as AnswerCacheMode;

/** A cached answer's text in sentences, as a fresh one streams. */
function sentencesOf(text: string): string[] {
  const segments = [...new Intl.Segmenter('en', { granularity: 'sentence' }).segment(text)].map((s) => s.segment);
  return segments.length ? segments : [text];
}
