import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { AnswerActivities, CandidateFailure, GenerateOutcome } from '../../activities/answer';
import type { QueryActivities } from '../../activities/query';
import { STREAM_BROKEN, type AnswerInput, type AnswerResult, type ModelCall, type RankedChunk } from '../../lib/answer/types';
import { QUERY_TASK_QUEUE } from '../../lib/query/types';
import { startTemporalDevServer } from '../helpers/temporal';

const CHUNK: RankedChunk = {
  chunkId: 'c1',
  documentId: 'd1',
  version: 1,
  chunkIndex: 0,
  title: 'Handbook',
  pageStart: null,
  pageEnd: null,
  headings: [],
  metadata: {},
  text: 'Refunds are paid within 14 days.',
  kind: 'text',
  score: 0.9,
  relevance: 0.9,
};
const call = (provider: string, outcome: ModelCall['outcome']): ModelCall => ({ provider, model: `${provider}-model`, inputTokens: 10, outputTokens: 3, costUsd: 0.001, latencyMs: 5, outcome });
/** As the generate activity fails: non-retryable, with what was spent and whether text reached the client. */
const providerFailure = (provider: string, textStarted: boolean) =>
  ApplicationFailure.create({ message: 'HTTP 500', type: 'server_error', nonRetryable: true, details: [{ calls: [call(provider, 'failed')], textStarted } satisfies CandidateFailure] });

/**
 * The answer workflow's failover walk with the activities replaced by in-memory ones: what e2e
 * tests reach only with a provider that fails on cue mid-stream.
 */
describe('answerQueryWorkflow: failing over between models', () => {
  let env: TestWorkflowEnvironment;
  before(async () => (env = await startTemporalDevServer()));
  after(async () => env?.teardown());

  async function answer(generate: (candidate: string) => GenerateOutcome, streamChannel?: string) {
    const seen = { generated: [] as string[], extractive: [] as { withdraw?: boolean }[] };
    const activities: Partial<QueryActivities & AnswerActivities> = {
      retrieveChunks: async () => ({ chunks: [CHUNK], latencyMs: { embed: 1, search: 1 } }),
      rerankChunks: async () => ({ chunks: [CHUNK], latencyMs: 1, instructionChunks: [] }),
      routeAnswer: async () => ({ candidates: ['first', 'second'], skipped: [], promptVersion: 'grounded-answer/v1' }),
      generateAnswer: async ({ candidate }) => {
        seen.generated.push(candidate);
        return generate(candidate);
      },
      answerExtractively: async ({ withdraw }) => {
        seen.extractive.push({ withdraw });
        return { found: true, answer: CHUNK.text, citations: [] };
      },
    };
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUERY_TASK_QUEUE, workflowsPath: require.resolve('../../workflows'), activities });
    const input: AnswerInput = { tenantId: 't', collection: 'c', question: 'How fast are refunds paid?', topK: 3, filters: {}, rerankCandidates: 6, ...(streamChannel && { streamChannel }) };
    const outcome = await worker.runUntil(
      env.client.workflow.execute('answerQueryWorkflow', { taskQueue: QUERY_TASK_QUEUE, workflowId: `answer-${Math.random().toString(36).slice(2)}`, args: [input] }).then(
        (result) => ({ result: result as AnswerResult, error: undefined }),
        (error: Error) => ({ result: undefined, error }),
      ),
    );
    return { ...outcome, seen };
  }

  it('moves to the next model when one fails before any text was shown, and accounts both calls', async () => {
    const valid: GenerateOutcome = { status: 'valid', answer: { found: true, answer: 'Within 14 days.', citations: [] }, calls: [call('second', 'valid')] };
    const { result, error, seen } = await answer((candidate) => {
      if (candidate === 'first') throw providerFailure('first', false);
      return valid;
    }, 'stream-1');
    assert.equal(error, undefined, String(error));
    assert.deepEqual(seen.generated, ['first', 'second']);
    assert.deepEqual(result?.answeredBy, { provider: 'second', model: 'second-model' });
    assert.deepEqual(result?.calls.map((c) => `${c.provider}:${c.outcome}`), ['first:failed', 'second:valid']);
    assert.match(result?.fallbacks[0] ?? '', /^first: server_error: HTTP 500/);
    assert.deepEqual(seen.extractive, [], 'no extractive answer when a model answered');
  });

  it('fails with stream_broken when a model fails after its text began streaming: no other answer takes over', async () => {
    const { error, seen } = await answer((candidate) => {
      throw providerFailure(candidate, candidate === 'first');
    }, 'stream-2');
    assert.ok(error instanceof WorkflowFailedError, String(error));
    const cause = error.cause;
    assert.ok(cause instanceof ApplicationFailure && cause.type === STREAM_BROKEN, String(cause));
    assert.deepEqual(seen.generated, ['first'], 'the second model was never asked');
    assert.deepEqual(seen.extractive, [], 'nor the extractive answerer');
    assert.deepEqual((cause.details?.[0] as { calls: ModelCall[] }).calls.map((c) => c.provider), ['first'], 'the spent call is still accounted');
  });

  it('answers extractively when every model fails before streaming, withdrawing nothing that was never shown', async () => {
    const { result, error, seen } = await answer((candidate) => {
      throw providerFailure(candidate, false);
    }, 'stream-3');
    assert.equal(error, undefined, String(error));
    assert.deepEqual(seen.generated, ['first', 'second']);
    assert.equal(result?.answeredBy.provider, 'extractive');
    assert.deepEqual(seen.extractive, [{ withdraw: false }]);
  });

  it('withdraws shown text when a streamed reply was invalid twice and the extractive answer replaces it', async () => {
    const invalid = (candidate: string): GenerateOutcome => ({ status: 'invalid', reply: '{"answer": "Refunds', issues: ['citations: Required'], calls: [call(candidate, 'invalid_output')] });
    const { result, error, seen } = await answer(invalid, 'stream-4');
    assert.equal(error, undefined, String(error));
    assert.deepEqual(seen.generated, ['first', 'first', 'second', 'second'], 'one repair per model');
    assert.equal(result?.answeredBy.provider, 'extractive');
    assert.deepEqual(seen.extractive, [{ withdraw: true }]);
  });
});
