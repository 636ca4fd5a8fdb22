import { readFileSync } from 'node:fs';
import type { ConfigurationReport, GateReport } from '../../lib/eval/gate';
import { ANSWER_PROMPT } from '../../lib/prompts/prompt-ref';
import { shippedPromptWith } from '../../test/helpers/prompts';
import type { ApiClient } from '../../test/helpers/stack';
import { evidenceOf, type LabeledQuestion } from './labels';

/**
 * The candidate the pipeline is run with: a prompt file (`--candidate=path`), else the shipped
 * prompt asked to be brief. The zero-setup answers are extractive and never render a prompt, so
 * there the two configurations differ only by run-to-run noise: the figures show what the gate
 * sees, and what a prompt change must not lose.
 */
export async function createCandidate(operator: ApiClient, path: string | undefined): Promise<number> {
  const content = path ? readFileSync(path, 'utf8') : shippedPromptWith('Be brief.');
  const created = await operator.postJson(`/v1/prompts/${ANSWER_PROMPT}/versions`, { content, note: 'eval pipeline candidate' });
  if (created.status !== 201 && created.status !== 200) throw new Error(`the candidate prompt was refused: ${JSON.stringify(created.body)}`);
  return created.body.version as number;
}

/**
 * Runs the evaluation pipeline (`evaluateWorkflow`, through `POST …/promotions`) on one corpus:
 * its labeled questions become the collection's eval set at document level (an unanswerable
 * question labels no document), and a label of its own goes from the production version to
 * the candidate. Returns the gate's report, passed or refused.
 */
export async function gateCorpus(api: ApiClient, operator: ApiClient, corpus: string, questions: LabeledQuestion[], candidate: number): Promise<GateReport> {
  const evalSet = questions.map((q) => ({ question: q.question, relevantDocumentIds: [...new Set(evidenceOf(q).map((e) => e.document))] }));
  const stored = await api.putJson(`/v1/collections/${corpus}/eval-set`, { questions: evalSet });
  if (stored.status !== 200) throw new Error(`the eval set of ${corpus} was refused: ${JSON.stringify(stored.body)}`);
  const labels = (await operator.get(`/v1/prompts/${ANSWER_PROMPT}`)).body.labels as { label: string; version: number }[];
  const production = labels.find((l) => l.label === 'production')?.version as number;
  const label = `eval-${corpus}`;
  const moved = await operator.putJson(`/v1/prompts/${ANSWER_PROMPT}/labels/${label}`, { version: production, reason: 'eval pipeline baseline' });
  if (moved.status !== 200) throw new Error(`label ${label} did not move: ${JSON.stringify(moved.body)}`);
  const promotion = await operator.postJson(`/v1/prompts/${ANSWER_PROMPT}/labels/${label}/promotions`, { version: candidate, evalSet: { tenantId: 'default', collection: corpus }, reason: 'npm run eval -- --gate' });
  if (promotion.status === 200) return promotion.body.report as GateReport;
  if (promotion.status === 409 && promotion.body.error.code === 'promotion_refused') return promotion.body.error.details.report as GateReport;
  throw new Error(`the promotion on ${corpus} answered ${promotion.status}: ${JSON.stringify(promotion.body)}`);
}

export function printGateReports(reports: [string, GateReport][]): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const counted = (c: { count: number; rate: number }, of: number) => `${pct(c.rate)} (${c.count}/${of})`;
  const row = (corpus: string, name: string, r: ConfigurationReport) =>
    `| ${corpus} | ${name} | ${r.questions} (${r.unanswerable}) | ${r.retrieval.recallAt5.toFixed(3)} | ${r.retrieval.recallAt10.toFixed(3)} | ${r.retrieval.mrr.toFixed(3)} | ${counted(r.answers.withEvidence, r.questions - r.unanswerable)} | ${counted(r.answers.citationsOnEvidence, r.answers.found.count)} | ${counted(r.answers.refusals, r.unanswerable)} | ${Math.round(r.latencyMs.p50)} / ${Math.round(r.latencyMs.p95)} | $${r.costUsd.toFixed(4)} |`;
  console.log('\nevaluation pipeline (evaluateWorkflow via POST /v1/prompts/grounded-answer/labels/eval-<corpus>/promotions), document-level labels\n');
  console.log('| corpus | configuration | questions (unanswerable) | recall@5 | recall@10 | MRR | answered with evidence | citations only on evidence | unanswerable refused | p50 / p95 ms | cost |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [corpus, report] of reports) {
    console.log(row(corpus, 'baseline', report.baseline));
    console.log(row(corpus, 'candidate', report.candidate));
  }
  console.log('\n| corpus | safety probes blocked or masked | gate | why not |');
  console.log('| --- | --- | --- | --- |');
  for (const [corpus, report] of reports) {
    const probes = report.safety.probes;
    console.log(`| ${corpus} | ${probes.filter((p) => p.passed).length}/${probes.length} | ${report.passed ? 'passed' : 'refused'} | ${report.failures.join('; ') || '-'} |`);
  }
}
