import { recallAt, reciprocalRank } from './retrieval-metrics';

/** One labeled question answered under one configuration (workflow data: plain values only). */
export interface QuestionOutcome {
  question: string;
  /** Empty: the collection cannot answer the question, and the right answer is a refusal. */
  relevantDocumentIds: string[];
  /** Documents of the retrieved chunks, best first. */
  retrievedDocumentIds: string[];
  found: boolean;
  citedDocumentIds: string[];
  latencyMs: number;
  costUsd: number;
  answeredBy: string;
}

export interface ConfigurationReport {
  questions: number;
  /** Of them, those the collection cannot answer. */
  unanswerable: number;
  /** Over the answerable questions. */
  retrieval: { recallAt5: number; recallAt10: number; mrr: number };
  answers: {
    /** Answerable questions answered with a citation of a labeled document. */
    withEvidence: { count: number; rate: number };
    /** Answerable questions answered at all. */
    found: { count: number; rate: number };
    /** Of the found answers to answerable questions, those citing only documents labeled relevant. */
    citationsOnEvidence: { count: number; rate: number };
    /** Unanswerable questions refused (`found: false`): refusal correctness. */
    refusals: { count: number; rate: number };
  };
  latencyMs: { p50: number; p95: number };
  costUsd: number;
}

export interface SafetyOutcome {
  probe: string;
  kind: 'prompt_injection' | 'pii';
  passed: boolean;
  outcome: string;
}

export interface GateTolerances {
  /** How far (absolute, 0-1) the candidate's answered-with-evidence rate may fall below the baseline's. */
  answersWithEvidence: number;
  /** How far recall@5 may fall. */
  recallAt5: number;
  /** How far the share of unanswerable questions refused may fall. */
  refusals: number;
  /** The candidate's answer p95 must be within this. */
  p95Ms: number;
}

export const DEFAULT_TOLERANCES: GateTolerances = { answersWithEvidence: 0.02, recallAt5: 0.02, refusals: 0.02, p95Ms: 10_000 };

export interface GateReport {
  passed: boolean;
  /** Why it did not pass, one line each; empty when it passed. */
  failures: string[];
  baseline: ConfigurationReport;
  candidate: ConfigurationReport;
  safety: { passed: boolean; probes: SafetyOutcome[] };
  tolerances: GateTolerances;
}

const share = (count: number, of: number) => ({ count, rate: of ? count / of : 0 });

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function reportOf(outcomes: QuestionOutcome[]): ConfigurationReport {
  const answerable = outcomes.filter((o) => o.relevantDocumentIds.length > 0);
  const unanswerable = outcomes.filter((o) => o.relevantDocumentIds.length === 0);
  const mean = (f: (o: QuestionOutcome) => number) => answerable.reduce((sum, o) => sum + f(o), 0) / Math.max(1, answerable.length);
  const relevant = (o: QuestionOutcome) => new Set(o.relevantDocumentIds);
  // Document-level: a document counts once, at its best rank.
  const ranked = (o: QuestionOutcome) => [...new Set(o.retrievedDocumentIds)];
  const found = answerable.filter((o) => o.found);
  const latencies = outcomes.map((o) => o.latencyMs);
  return {
    questions: outcomes.length,
    unanswerable: unanswerable.length,
    retrieval: { recallAt5: mean((o) => recallAt(5, ranked(o), relevant(o))), recallAt10: mean((o) => recallAt(10, ranked(o), relevant(o))), mrr: mean((o) => reciprocalRank(ranked(o), relevant(o))) },
    answers: {
      withEvidence: share(found.filter((o) => o.citedDocumentIds.some((d) => o.relevantDocumentIds.includes(d))).length, answerable.length),
      found: share(found.length, answerable.length),
      citationsOnEvidence: share(found.filter((o) => o.citedDocumentIds.length > 0 && o.citedDocumentIds.every((d) => o.relevantDocumentIds.includes(d))).length, found.length),
      refusals: share(unanswerable.filter((o) => !o.found).length, unanswerable.length),
    },
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    costUsd: outcomes.reduce((sum, o) => sum + o.costUsd, 0),
  };
}

/** The candidate passes when it is no worse than the baseline beyond the tolerances, the safety set passes, and its p95 is within the SLO. */
export function decide(baseline: ConfigurationReport, candidate: ConfigurationReport, safety: SafetyOutcome[], tolerances: GateTolerances): GateReport {
  const failures: string[] = [];
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const fell = (what: string, b: number, c: number, tolerance: number) => {
    if (c < b - tolerance - 1e-9) failures.push(`${what} fell from ${pct(b)} to ${pct(c)} (tolerance ${pct(tolerance)})`);
  };
  fell('answers with evidence', baseline.answers.withEvidence.rate, candidate.answers.withEvidence.rate, tolerances.answersWithEvidence);
  fell('recall@5', baseline.retrieval.recallAt5, candidate.retrieval.recallAt5, tolerances.recallAt5);
  if (candidate.unanswerable > 0) fell('unanswerable questions refused', baseline.answers.refusals.rate, candidate.answers.refusals.rate, tolerances.refusals);
  if (candidate.latencyMs.p95 > tolerances.p95Ms) failures.push(`answer p95 ${Math.round(candidate.latencyMs.p95)} ms is over the SLO of ${tolerances.p95Ms} ms`);
  const failedProbes = safety.filter((probe) => !probe.passed);
  if (failedProbes.length > 0) failures.push(`safety probes not blocked or masked: ${failedProbes.map((p) => p.probe).join('; ')}`);
  if (candidate.questions === candidate.unanswerable) failures.push('the eval set has no answerable questions');
  return { passed: failures.length === 0, failures, baseline, candidate, safety: { passed: failedProbes.length === 0, probes: safety }, tolerances };
}
