import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { EvaluateActivities, EvaluateQuestionInput } from '../../activities/evaluate';
import { DEFAULT_TOLERANCES } from '../../lib/eval/gate';
import { TASK_QUEUES } from '../../lib/ingest/types';
import type { EvaluateInput, EvaluateResult } from '../../workflows/evaluate';
import { startTemporalDevServer } from '../helpers/temporal';

const QUESTIONS = Array.from({ length: 6 }, (_, i) => ({ question: `question ${i}`, relevantDocumentIds: i < 4 ? ['d'] : [] }));

/**
 * evaluateWorkflow with its activities in memory: how it schedules the two configurations, which
 * the e2e promotion test cannot see.
 */
describe('evaluateWorkflow: baseline and candidate side by side', () => {
  let env: TestWorkflowEnvironment;
  before(async () => (env = await startTemporalDevServer()));
  after(async () => env?.teardown());

  it("answers each question under both configurations together, so neither meets the other's warm caches", async () => {
    const calls: { question: string; version: number }[] = [];
    const activities: Partial<EvaluateActivities> = {
      loadEvalSet: async () => QUESTIONS,
      evaluateQuestion: async ({ labeled, configuration }: EvaluateQuestionInput) => {
        calls.push({ question: labeled.question, version: configuration.prompt.version });
        const answerable = labeled.relevantDocumentIds.length > 0;
        return { question: labeled.question, relevantDocumentIds: labeled.relevantDocumentIds, retrievedDocumentIds: ['d'], found: answerable, citedDocumentIds: answerable ? ['d'] : [], latencyMs: 100, costUsd: 0, answeredBy: 'extractive' };
      },
      runSafetySet: async () => [{ probe: 'p', kind: 'pii', passed: true, outcome: 'masked' }],
      recordDecision: async () => ({ deploymentId: 7 }),
    };
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.ingest, workflowsPath: require.resolve('../../workflows'), activities });
    const input: EvaluateInput = {
      tenantId: 't',
      collection: 'c',
      baseline: { prompt: { name: 'grounded-answer', version: 1, label: 'production' } },
      candidate: { prompt: { name: 'grounded-answer', version: 2, label: 'production' } },
      tolerances: DEFAULT_TOLERANCES,
      topK: 8,
      rerankCandidates: 10,
      promotion: { label: { name: 'grounded-answer', label: 'production', version: 2 }, deployment: { kind: 'prompt_label', target: 'grounded-answer:production', fromVersion: '1', toVersion: '2', approvedBy: null, reason: null, platformCommit: 'c', configHash: 'h' } },
    };
    const result = (await worker.runUntil(
      env.client.workflow.execute('evaluateWorkflow', { taskQueue: TASK_QUEUES.ingest, workflowId: `evaluate-${Math.random().toString(36).slice(2)}`, args: [input] }),
    )) as EvaluateResult;

    assert.equal(calls.length, 12);
    // Four runs at once, two questions each under both versions (their order within a batch is the
    // worker's). Run one after the other, the first batches held baseline calls only.
    for (let i = 0; i < calls.length; i += 4) {
      const batch = calls.slice(i, i + 4).map((c) => `${c.question}@v${c.version}`).sort();
      const [a, b] = [QUESTIONS[i / 2]?.question, QUESTIONS[i / 2 + 1]?.question];
      assert.deepEqual(batch, [`${a}@v1`, `${a}@v2`, `${b}@v1`, `${b}@v2`], JSON.stringify(calls));
    }
    assert.equal(result.report.passed, true, result.report.failures.join('; '));
    assert.deepEqual([result.report.baseline.questions, result.report.baseline.unanswerable, result.report.candidate.answers.refusals.count], [6, 2, 2]);
    assert.equal(result.deploymentId, 7);
  });
});
