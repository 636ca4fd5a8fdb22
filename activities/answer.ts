import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { AnswerFieldStream, StreamPublisher } from '../lib/answer/answer-stream';
import type { EvidenceScorer } from '../lib/answer/evidence-scorer';
import { extractiveAnswer } from '../lib/answer/extractive';
import { MODEL_ANSWER_JSON_SCHEMA, validateModelAnswer } from '../lib/answer/model-answer';
import type { Citation, ClosestDocument, GroundedAnswer, ModelCall, RankedChunk } from '../lib/answer/types';
import type { ChatMessage } from '../lib/models/chat';
import { GatewayCallFailed, type ChatGateway } from '../lib/models/chat-gateway';
import { route, type Route, type RoutingPolicy } from '../lib/models/router';
import type { PromptRegistry } from '../lib/prompts/prompt-registry';
import { ANSWER_PROMPT, DEFAULT_LABEL, type PromptRef } from '../lib/prompts/prompt-ref';
import { promptVersionOf, renderPart, type PromptTemplate } from '../lib/prompts/prompt-template';
import { diversify } from '../lib/query/diversify';
import type { RetrievedChunk, UsageContext } from '../lib/query/types';
import type { Reranker } from '../lib/rerank/reranker';
import { estimateTokens } from '../lib/text/estimate-tokens';
import type { SqlDatabase } from '../lib/stores/sql';
import type { RetrievedInstructionsPolicy } from '../lib/gateway/tenant-settings';
import { screenRetrieved } from '../lib/guardrails/guard';
import type { UsageRecorder } from './usage';

export interface AnswerDependencies {
  gateway: ChatGateway;
  /** `undefined`: hybrid order kept, and no relevance floor. */
  reranker?: Reranker;
  /** Scores sentences for the extractive answer (and, as the local reranker, for ranking). */
  evidence: EvidenceScorer;
  db: SqlDatabase;
  /** Answers render the prompt version their workflow was given (runs from before: the production label's, resolved then). */
  prompts: PromptRegistry;
  settings: { relevanceFloor: number; routingPolicy: RoutingPolicy };
  /** Model and scoring calls go into the usage ledger, charged to the context the workflow passes. */
  usage?: UsageRecorder;
  /** Latency measured from real calls per candidate (the `fastest` routing policy orders by it). */
  latencies?: () => Promise<ReadonlyMap<string, number>>;
}

export interface RerankInput {
  question: string;
  chunks: RetrievedChunk[];
  keep: number;
  retrievedInstructions?: RetrievedInstructionsPolicy;
  /** How many of the hybrid hits the reranker scores, at most a third from one document; unset on runs from before. */
  candidates?: number;
  /** The collection's own floor; unset: the deployment's. */
  relevanceFloor?: number;
  usage?: UsageContext;
}

export interface GenerateInput {
  candidate: string;
  /** Unset on runs from before the prompt registry. */
  prompt?: PromptRef;
  question: string;
  chunks: RankedChunk[];
  /** Set on the one repair attempt: the rejected reply and why it was rejected. */
  repair?: { reply: string; issues: string[] };
  streamChannel?: string;
  /** Which activity call of this answer is streaming (its events are numbered from 0). */
  streamSegment?: number;
  usage?: UsageContext;
}

export interface ExtractiveInput {
  question: string;
  chunks: RankedChunk[];
  streamChannel?: string;
  streamSegment?: number;
  withdraw?: boolean;
  usage?: UsageContext;
}

export interface RerankOutcome {
  chunks: RankedChunk[];
  latencyMs: number;
  /** Chunks shown to (or, by policy, kept from) the model that carry instructions. */
  instructionChunks: { chunkId: string; rules: string[] }[];
  /** The floor the candidates were held to (absent without a reranker). */
  floor?: number;
  /** The best-scored documents, floor or not: what a "not found" answer names as closest. */
  closest?: ClosestDocument[];
}

export type GenerateOutcome =
  | { status: 'valid'; answer: GroundedAnswer; calls: ModelCall[] }
  | { status: 'invalid'; reply: string; issues: string[]; calls: ModelCall[] };

/** Details of a candidate's failure, for the workflow's accounting and its streaming rule. */
export interface CandidateFailure {
  calls: ModelCall[];
  textStarted: boolean;
}


export function createAnswerActivities({ gateway, reranker, evidence, db, prompts, settings, usage, latencies }: AnswerDependencies) {
  const promptOf = async (ref: PromptRef | undefined): Promise<PromptTemplate> => {
    if (ref) return prompts.template(ref.name, ref.version);
    const current = await prompts.resolve(ANSWER_PROMPT, DEFAULT_LABEL);
    if (!current) throw new Error(`prompt ${ANSWER_PROMPT} has no ${DEFAULT_LABEL} label`);
    return prompts.template(current.name, current.version);
  };
  /** Scoring embeds sentences with the local model: those calls are the query's too. */
  const scoring = <T>(context: UsageContext | undefined, work: () => Promise<T>) => (usage && context ? usage.embeddingsOf(context, 'query', work) : work());

  const renderMessages = (template: PromptTemplate, question: string, chunks: RankedChunk[]): ChatMessage[] => {
    const sources = chunks.map((chunk, i) => `[${i + 1}] ${chunk.title ? `(${chunk.title}) ` : ''}${chunk.text}`).join('\n\n');
    return [
      { role: 'system', content: renderPart(template, 'system', {}) },
      { role: 'user', content: renderPart(template, 'user', { sources, question }) },
    ];
  };

  return {
    /**
     * Rescores the hybrid candidates with the reranker and keeps the best `keep` above the
     * relevance floor; none left means the documents do not answer the question. Then screens
     * what the model will see: chunks carrying instructions are flagged (they stay quoted data,
     * as the prompt says) or, by the tenant's policy, dropped before the best are taken.
     */
    async rerankChunks(input: RerankInput): Promise<RerankOutcome> {
      const started = performance.now();
      const candidates = input.candidates ? diversify(input.chunks, input.candidates, perDocumentCap(input.candidates)) : input.chunks;
      let ranked: RankedChunk[] = candidates.map((chunk) => ({ ...chunk, relevance: chunk.score }));
      let closest: ClosestDocument[] | undefined;
      const floor = input.relevanceFloor ?? settings.relevanceFloor;
      if (reranker) {
        const scores = await scoring(input.usage, () => reranker.rerank(input.question, candidates, Context.current().cancellationSignal));
        const scored = candidates.map((chunk, i) => ({ ...chunk, relevance: scores[i] ?? Number.NEGATIVE_INFINITY })).sort((a, b) => b.relevance - a.relevance);
        closest = closestDocuments(scored);
        ranked = scored.filter((chunk) => chunk.relevance >= floor);
      }
      const policy = input.retrievedInstructions;
      const screened = policy ? screenRetrieved(ranked.slice(0, policy === 'drop' ? ranked.length : input.keep), policy) : { kept: ranked, flagged: [] };
      return {
        chunks: screened.kept.slice(0, input.keep),
        latencyMs: reranker ? performance.now() - started : 0,
        instructionChunks: screened.flagged,
        ...(reranker ? { floor, closest } : {}),
      };
    },

    /** The candidates for this answer, in order, and the prompt version that will be used. */
    async routeAnswer(input: { question: string; chunks: RankedChunk[]; prompt?: PromptRef; preferredModel?: string; allowedModels?: string[] | null }): Promise<Route & { promptVersion: string }> {
      const template = await promptOf(input.prompt);
      const tokens = estimateTokens(renderMessages(template, input.question, input.chunks).map((message) => message.content).join('\n'));
      const options = { preferred: input.preferredModel, allowed: input.allowedModels, measuredLatencyMs: await latencies?.().catch(() => undefined) };
      return { ...route(gateway.configs(), 'answer', tokens, settings.routingPolicy, options), promptVersion: promptVersionOf(template) };
    },

    /** One candidate's answer (or its one repair), validated against the chunks it was shown. */
    async generateAnswer(input: GenerateInput): Promise<GenerateOutcome> {
      const context = Context.current();
      const template = await promptOf(input.prompt);
      const promptVersion = promptVersionOf(template);
      const messages = renderMessages(template, input.question, input.chunks);
      if (input.repair) {
        messages.push(
          { role: 'assistant', content: input.repair.reply },
          { role: 'user', content: renderPart(template, 'repair', { issues: input.repair.issues.join('; ') }) },
        );
      }
      const publisher = input.streamChannel ? new StreamPublisher(db, input.streamChannel, input.streamSegment) : undefined;
      const answerText = new AnswerFieldStream();
      if (publisher && input.repair) publisher.reset('the previous reply failed validation');
      const beating = setInterval(() => context.heartbeat({ waitingFor: input.candidate }), HEARTBEAT_EVERY_MS);
      try {
        const { result, calls } = await gateway.call(
          input.candidate,
          {
            messages,
            maxTokens: 400,
            jsonSchema: MODEL_ANSWER_JSON_SCHEMA,
            signal: context.cancellationSignal,
            onText: publisher && ((delta) => {
              const text = answerText.push(delta);
              if (text) publisher.delta(text);
            }),
          },
          { sleep: (ms) => context.sleep(ms), onAttempt: (attempt) => context.heartbeat({ attempt }) },
        );
        await publisher?.flush();
        const validation = validateModelAnswer(result.text, input.chunks);
        if (!validation.ok) {
          const last = calls.at(-1);
          if (last) last.outcome = 'invalid_output';
          await usage?.chat(input.usage, calls, promptVersion);
          return { status: 'invalid', reply: result.text, issues: validation.issues, calls };
        }
        const { found, answer, citations } = validation.answer;
        await usage?.chat(input.usage, calls, promptVersion);
        return {
          status: 'valid',
          answer: found
            ? { found, answer, citations: citations.map(({ source, quote }) => citationOf(input.chunks[source - 1] as RankedChunk, quote)) }
            : { found: false, answer: '', citations: [] },
          calls,
        };
      } catch (error) {
        if (!(error instanceof GatewayCallFailed)) throw error;
        await usage?.chat(input.usage, error.calls, promptVersion);
        // The provider's own words (and any internal address) go to the worker's log; the answer says what kind of failure it was.
        log.warn('model call failed', { candidate: input.candidate, kind: error.error.kind, status: error.error.status, message: error.error.message });
        const details: CandidateFailure = { calls: error.calls, textStarted: error.textStarted };
        throw ApplicationFailure.create({ message: error.error.status ? `HTTP ${error.error.status}` : 'no HTTP answer', type: error.error.kind, nonRetryable: true, details: [details] });
      } finally {
        clearInterval(beating);
      }
    },

    /**
     * The no-LLM answerer: the best evidence sentences of the top chunks, verbatim, or "not found".
     * Streams passage by passage; `reset` only withdraws text a model had already shown.
     */
    async answerExtractively(input: ExtractiveInput): Promise<GroundedAnswer> {
      const scores = await scoring(input.usage, () => evidence.score(input.question, input.chunks, Context.current().cancellationSignal));
      const { passages, ...answer } = extractiveAnswer(input.chunks, scores);
      if (input.streamChannel) {
        const publisher = new StreamPublisher(db, input.streamChannel, input.streamSegment);
        if (input.withdraw ?? true) publisher.reset('answered by the extractive answerer');
        for (const [i, passage] of passages.entries()) publisher.delta(i === 0 ? passage : ` ${passage}`);
        if (passages.length === 0) publisher.delta(answer.answer);
        await publisher.flush();
      }
      return answer;
    },
  };
}

/** Heartbeats while a model call runs (the workflow's heartbeat timeout is 15 s). */
const HEARTBEAT_EVERY_MS = 3_000;

/** At most a third of the reranked candidates from one document, so one large manual cannot crowd out the rest. */
export function perDocumentCap(candidates: number): number {
  return Math.max(2, Math.ceil(candidates / 3));
}

/** The best-scored distinct documents among the candidates, best first. */
function closestDocuments(scored: RankedChunk[]): ClosestDocument[] {
  const seen = new Set<string>();
  const closest: ClosestDocument[] = [];
  for (const chunk of scored) {
    if (seen.has(chunk.documentId) || closest.length === 3) continue;
    seen.add(chunk.documentId);
    closest.push({ documentId: chunk.documentId, title: chunk.title, score: chunk.relevance });
  }
  return closest;
}

function citationOf(chunk: RankedChunk, quote: string): Citation {
  return { documentId: chunk.documentId, version: chunk.version, chunkId: chunk.chunkId, page: chunk.pageStart, quote, score: chunk.relevance };
}

export type AnswerActivities = ReturnType<typeof createAnswerActivities>;
