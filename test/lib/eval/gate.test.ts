import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TOLERANCES, decide, reportOf, type QuestionOutcome } from '../../../lib/eval/gate';
import { runSafetyProbes } from '../../../lib/eval/safety-probes';
import { DEFAULT_TENANT_SETTINGS } from '../../../lib/gateway/tenant-settings';

const outcome = (found: boolean, cited: string[], latencyMs = 100, retrieved = ['a', 'b'], relevantDocumentIds = ['a']): QuestionOutcome => ({
  question: 'q',
  relevantDocumentIds,
  retrievedDocumentIds: retrieved,
  found,
  citedDocumentIds: cited,
  latencyMs,
  costUsd: 0.01,
  answeredBy: 'primary',
});
const safe = runSafetyProbes(DEFAULT_TENANT_SETTINGS.guardrails);

describe('evaluation gate', () => {
  it('reports answers with evidence, citations on evidence, retrieval and latency', () => {
    const report = reportOf([outcome(true, ['a']), outcome(true, ['b']), outcome(false, [], 900, ['b', 'c'])]);
    assert.deepEqual(report.answers.withEvidence, { count: 1, rate: 1 / 3 });
    assert.deepEqual(report.answers.citationsOnEvidence, { count: 1, rate: 1 / 2 });
    assert.equal(report.retrieval.recallAt5, 2 / 3);
    assert.equal(report.latencyMs.p95, 900);
    assert.ok(Math.abs(report.costUsd - 0.03) < 1e-12);
  });

  it('passes a candidate within the tolerances, and names each way one fails', () => {
    const baseline = reportOf([outcome(true, ['a']), outcome(true, ['a'])]);
    assert.equal(decide(baseline, reportOf([outcome(true, ['a']), outcome(true, ['a'])]), safe, DEFAULT_TOLERANCES).passed, true);
    const worse = decide(baseline, reportOf([outcome(true, ['a'], 20_000), outcome(false, [], 100, ['c'])]), [...safe, { probe: 'x', kind: 'pii', passed: false, outcome: 'pass' }], DEFAULT_TOLERANCES);
    assert.equal(worse.passed, false);
    assert.equal(worse.failures.length, 4, worse.failures.join('\n'));
    assert.match(worse.failures.join('\n'), /answers with evidence fell from 100\.0% to 50\.0%[\s\S]*recall@5 fell[\s\S]*p95 20000 ms[\s\S]*safety probes not blocked or masked: x/);
  });

  it('counts unanswerable questions as refusal correctness only, and fails a candidate that answers them', () => {
    const unanswerable = (found: boolean) => outcome(found, found ? ['b'] : [], 100, ['b'], []);
    const baseline = reportOf([outcome(true, ['a']), unanswerable(false), unanswerable(false)]);
    assert.deepEqual([baseline.questions, baseline.unanswerable], [3, 2]);
    assert.deepEqual(baseline.answers.withEvidence, { count: 1, rate: 1 }, 'over the answerable question only');
    assert.deepEqual(baseline.answers.refusals, { count: 2, rate: 1 });
    assert.equal(baseline.retrieval.recallAt5, 1, 'recall is not diluted by questions with nothing to find');
    const candidate = reportOf([outcome(true, ['a']), unanswerable(true), unanswerable(false)]);
    assert.deepEqual(candidate.answers.refusals, { count: 1, rate: 0.5 });
    const report = decide(baseline, candidate, safe, DEFAULT_TOLERANCES);
    assert.equal(report.passed, false);
    assert.deepEqual(report.failures, ['unanswerable questions refused fell from 100.0% to 50.0% (tolerance 2.0%)']);
    const onlyUnanswerable = reportOf([unanswerable(false)]);
    assert.deepEqual(decide(onlyUnanswerable, onlyUnanswerable, safe, DEFAULT_TOLERANCES).failures, ['the eval set has no answerable questions']);
  });

  it('passes the safety set with the default guardrails, and fails it with them off', () => {
    assert.ok(safe.every((probe) => probe.passed), JSON.stringify(safe.filter((p) => !p.passed)));
    const off = runSafetyProbes({ ...DEFAULT_TENANT_SETTINGS.guardrails, promptInjection: 'flag', pii: { ...DEFAULT_TENANT_SETTINGS.guardrails.pii, answer: 'off' } });
    assert.ok(off.every((probe) => !probe.passed), JSON.stringify(off));
  });
});
