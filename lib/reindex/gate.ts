import type { GateReport, RecallComparison } from './types';

export interface GateFindings {
  expected: number;
  present: number;
  missing: string[];
  wrongChunkCount: GateReport['documents']['wrongChunkCount'];
  recall: RecallComparison | null;
}

/** Recall of the new generation against the live one: it may be lower by at most `margin`. */
export function compareRecall(k: number, live: number[], candidate: number[], margin: number): RecallComparison {
  const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  const liveRecall = mean(live);
  const candidateRecall = mean(candidate);
  // Rounded before comparing, so float noise in equal rankings never fails a gate.
  const passed = Math.round((candidateRecall - liveRecall + margin) * 1e9) >= 0;
  return { k, questions: live.length, live: liveRecall, candidate: candidateRecall, margin, passed };
}

/** The swap goes ahead only if every active document is there with its chunks and recall holds. */
export function decideGate(findings: GateFindings): GateReport {
  const reasons: string[] = [];
  if (findings.missing.length > 0) {
    reasons.push(`${findings.expected - findings.present} of ${findings.expected} documents are missing from the new generation (first: ${findings.missing.slice(0, 5).join(', ')})`);
  }
  for (const wrong of findings.wrongChunkCount.slice(0, 5)) {
    reasons.push(`document ${wrong.documentId} has ${wrong.found} points in the index but ${wrong.expected} chunks`);
  }
  const recall = findings.recall;
  if (recall && !recall.passed) {
    reasons.push(
      `recall@${recall.k} over ${recall.questions} labeled questions fell from ${recall.live.toFixed(3)} to ${recall.candidate.toFixed(3)}, more than the allowed ${recall.margin}`,
    );
  }
  return {
    passed: reasons.length === 0,
    reasons,
    documents: { expected: findings.expected, present: findings.present, missing: findings.missing, wrongChunkCount: findings.wrongChunkCount },
    recall,
  };
}
