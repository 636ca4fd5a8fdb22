import { patched, proxyActivities } from '@temporalio/workflow';
import type { EvaluateActivities, EvaluatedConfiguration, PromotionEvidence } from '../activities/evaluate';
import { decide, reportOf, type GateReport, type GateTolerances, type QuestionOutcome } from '../lib/eval/gate';

const { loadEvalSet, runSafetySet, recordDecision } = proxyActivities<EvaluateActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });
// Each question runs two query workflows; a slow model makes that minutes.
const { evaluateQuestion } = proxyActivities<EvaluateActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 3 } });

export interface EvaluateInput {
  tenantId: string;
  collection: string;
  baseline: EvaluatedConfiguration;
  candidate: EvaluatedConfiguration;
  tolerances: GateTolerances;
  topK: number;
  rerankCandidates: number;
  /** The promotion this evaluation gates: recorded as evidence either way. */
  promotion: { label: { name: string; label: string; version: number }; deployment: PromotionEvidence };
}

export interface EvaluateResult {
  report: GateReport;
  deploymentId: number;
}

/** Questions answered at once per configuration: enough to overlap model calls, few enough for 2 cores. */
const CONCURRENCY = 4;

/**
 * Runs a collection's labeled eval set under a baseline and a candidate configuration (each
 * question through the real query path), runs the safety set, decides the gate, and records the
 * decision as deployment evidence, moving the label only when the candidate passed. Visible,
 * question by question, in the Temporal UI.
 */
export async function evaluateWorkflow(input: EvaluateInput): Promise<EvaluateResult> {
  const questions = await loadEvalSet({ tenantId: input.tenantId, collection: input.collection });
  const ask = (labeled: (typeof questions)[number], configuration: EvaluatedConfiguration) =>
    evaluateQuestion({ tenantId: input.tenantId, collection: input.collection, labeled, configuration, topK: input.topK, rerankCandidates: input.rerankCandidates });
  let baselineOutcomes: QuestionOutcome[];
  let candidateOutcomes: QuestionOutcome[];
  if (patched('evaluate-interleaved')) {
    // Both configurations answer each question side by side, so caches warmed by the first to
    // ask (the reranker's sentence vectors) favour neither. Run one after the other, the candidate
    // met a warm platform: p50 156 ms against the baseline's 2,266 ms on identical answers.
    baselineOutcomes = [];
    candidateOutcomes = [];
    const perBatch = Math.max(1, CONCURRENCY / 2);
    for (let i = 0; i < questions.length; i += perBatch) {
      const batch = questions.slice(i, i + perBatch);
      const pairs = await Promise.all(batch.map((labeled) => Promise.all([ask(labeled, input.baseline), ask(labeled, input.candidate)])));
      for (const [baseline, candidate] of pairs) {
        baselineOutcomes.push(baseline);
        candidateOutcomes.push(candidate);
      }
    }
  } else {
    const answer = async (configuration: EvaluatedConfiguration): Promise<QuestionOutcome[]> => {
      const outcomes: QuestionOutcome[] = [];
      for (let i = 0; i < questions.length; i += CONCURRENCY) {
        outcomes.push(...(await Promise.all(questions.slice(i, i + CONCURRENCY).map((labeled) => ask(labeled, configuration)))));
      }
      return outcomes;
    };
    baselineOutcomes = await answer(input.baseline);
    candidateOutcomes = await answer(input.candidate);
  }
  const baseline = reportOf(baselineOutcomes);
  const candidate = reportOf(candidateOutcomes);
  const safety = await runSafetySet({ tenantId: input.tenantId });
  const report = decide(baseline, candidate, safety, input.tolerances);
  const { deploymentId } = await recordDecision({ deployment: input.promotion.deployment, passed: report.passed, report, label: input.promotion.label });
  return { report, deploymentId };
}
