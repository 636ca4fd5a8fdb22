import { ActivityFailure, ApplicationFailure, patched, proxyLocalActivities, proxyActivities } from '@temporalio/workflow';
import type { AnswerActivities, CandidateFailure, GenerateOutcome } from '../activities/answer';
import type { QueryActivities } from '../activities/query';
import { NOT_FOUND_ANSWER, STREAM_BROKEN, type AnswerInput, type AnswerResult, type GroundedAnswer, type ModelCall, type NotFoundReason } from '../lib/answer/types';
import { COLLECTION_NOT_FOUND } from '../lib/query/types';

const { retrieveChunks } = proxyLocalActivities<QueryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3, nonRetryableErrorTypes: [COLLECTION_NOT_FOUND] },
});
const { rerankChunks, routeAnswer, answerExtractively } = proxyLocalActivities<AnswerActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
});
// The activity is the only retry loop for model calls (it honours Retry-After and feeds the
// circuit breakers); the SDK never retries it. Failing over is this workflow's walk.
// It heartbeats while the model works: a worker that dies mid-answer is noticed in seconds and
// the walk moves to the next candidate.
const { generateAnswer } = proxyActivities<AnswerActivities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { maximumAttempts: 1 },
});

/** Hybrid hits fetched per reranker candidate (see `evidence-answers`). */
const CANDIDATE_POOL = 3;

/**
 * `mode: "answer"`: retrieve → rerank → for each routed candidate, generate and validate (one
 * repair per candidate) → else the extractive answer. Never returns an uncited claim: an answer
 * is either validated against the chunks it cites, or "not found in the documents".
 */
export async function answerQueryWorkflow(input: AnswerInput): Promise<AnswerResult> {
  // Hybrid search fetches a pool three times the reranker's candidates, so the candidates can be
  // taken from several documents rather than from whichever one dominates the collection.
  const evidenceAnswers = patched('evidence-answers');
  const pool = evidenceAnswers ? Math.max(input.topK, input.rerankCandidates * CANDIDATE_POOL) : Math.max(input.topK, input.rerankCandidates);
  const retrieved = await retrieveChunks({ ...input, topK: pool });
  // Runs from before the usage ledger pass no context: their activities record nothing.
  const usage = patched('usage-ledger') ? { usage: { tenantId: input.tenantId, collection: input.collection, keyId: input.caller?.keyId ?? null, requestId: input.caller?.requestId ?? null, traceId: input.caller?.traceId ?? null } } : {};
  const reranked = await rerankChunks({
    question: input.question,
    chunks: retrieved.chunks,
    keep: input.topK,
    retrievedInstructions: input.retrievedInstructions,
    ...usage,
    ...(evidenceAnswers ? { candidates: Math.max(input.topK, input.rerankCandidates), relevanceFloor: input.relevanceFloor } : {}),
  });
  const latencyMs = { ...retrieved.latencyMs, rerank: reranked.latencyMs, generate: 0 };
  const chunks = reranked.chunks;
  const calls: ModelCall[] = [];
  const fallbacks: string[] = [];
  // The prompt version the API resolved; runs from before render the production label's.
  const prompt = patched('prompt-registry') ? { prompt: input.prompt } : {};
  const plan = await routeAnswer({ question: input.question, chunks, ...prompt, ...(input.preferredModel && { preferredModel: input.preferredModel }), ...(input.allowedModels && { allowedModels: input.allowedModels }) });
  const notFound = (reason: NotFoundReason['reason']): NotFoundReason => ({
    reason,
    bestScore: reranked.closest?.[0]?.score ?? null,
    floor: reranked.floor ?? null,
    closest: reranked.closest ?? [],
  });
  const result = (answer: GroundedAnswer, answeredBy: AnswerResult['answeredBy'], whyNot?: NotFoundReason['reason']): AnswerResult => ({
    ...(answer.found ? answer : { found: false, answer: NOT_FOUND_ANSWER, citations: [], notFound: notFound(whyNot ?? 'no_evidence') }),
    answeredBy,
    promptVersion: plan.promptVersion,
    calls,
    fallbacks,
    latencyMs,
    instructionChunks: reranked.instructionChunks ?? [],
  });
  if (chunks.length === 0) {
    const why = retrieved.chunks.length === 0 ? 'no_candidates' : 'below_relevance_floor';
    return result({ found: false, answer: NOT_FOUND_ANSWER, citations: [] }, { provider: 'none', model: 'none' }, why);
  }

  fallbacks.push(...plan.skipped);
  const generateStarted = Date.now();
  // Whether a model's streamed text reached the client: only then does another answer withdraw it.
  let shown = false;
  // Each streaming activity call numbers its events from 0 in a segment of its own.
  let segment = 0;
  const streaming = () => (evidenceAnswers && input.streamChannel ? { streamSegment: segment++ } : {});
  for (const candidate of plan.candidates) {
    let outcome: GenerateOutcome | undefined;
    for (const repair of [undefined, 'repair'] as const) {
      try {
        outcome = await generateAnswer({
          candidate,
          ...prompt,
          question: input.question,
          chunks,
          repair: repair && outcome?.status === 'invalid' ? { reply: outcome.reply, issues: outcome.issues } : undefined,
          streamChannel: input.streamChannel,
          ...streaming(),
          ...usage,
        });
      } catch (error) {
        const failure = candidateFailure(error);
        calls.push(...failure.calls);
        shown ||= failure.textStarted;
        if (failure.textStarted) {
          throw ApplicationFailure.nonRetryable(`${candidate} failed after streaming began: ${failure.reason}`, STREAM_BROKEN, { calls });
        }
        fallbacks.push(`${candidate}: ${failure.reason}`);
        outcome = undefined;
        break;
      }
      calls.push(...outcome.calls);
      shown ||= input.streamChannel !== undefined && outcome.status === 'invalid';
      if (outcome.status === 'valid') {
        latencyMs.generate = Date.now() - generateStarted;
        const last = outcome.calls.at(-1);
        return result(outcome.answer, { provider: candidate, model: last?.model ?? candidate }, 'model_declined');
      }
      fallbacks.push(`${candidate}${repair ? ' (repair)' : ''}: invalid output: ${outcome.issues.slice(0, 3).join('; ')}`);
    }
  }
  const extractive = await answerExtractively({ question: input.question, chunks, streamChannel: input.streamChannel, ...(evidenceAnswers ? { withdraw: shown, ...streaming() } : {}), ...usage });
  latencyMs.generate = Date.now() - generateStarted;
  return result(extractive, { provider: 'extractive', model: 'extractive' });
}

function candidateFailure(error: unknown): CandidateFailure & { reason: string } {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as CandidateFailure | undefined;
    return { calls: details?.calls ?? [], textStarted: details?.textStarted ?? false, reason: `${cause.type ?? 'error'}: ${cause.message}` };
  }
  // Timeouts and worker loss: nothing was accounted by the activity, and nothing is known to have streamed.
  return { calls: [], textStarted: false, reason: (error as Error).message };
}
