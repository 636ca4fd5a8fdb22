import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRecall, decideGate } from '../../../lib/reindex/gate';

describe('re-index gate', () => {
  const complete = { expected: 3, present: 3, missing: [], wrongChunkCount: [] };

  it('passes a complete generation whose recall is within the margin', () => {
    const recall = compareRecall(5, [1, 1, 0.5, 1], [1, 1, 0.5, 0.8], 0.05);
    assert.equal(recall.passed, true, `0.825 vs 0.875 with margin 0.05: ${JSON.stringify(recall)}`);
    assert.deepEqual(decideGate({ ...complete, recall }), { passed: true, reasons: [], documents: { ...complete }, recall });
  });

  it('fails when recall falls by more than the margin, saying by how much', () => {
    const recall = compareRecall(5, [1, 1, 1, 1], [1, 1, 0, 1], 0.05);
    const report = decideGate({ ...complete, recall });
    assert.equal(report.passed, false);
    assert.deepEqual(report.reasons, ['recall@5 over 4 labeled questions fell from 1.000 to 0.750, more than the allowed 0.05']);
  });

  it('fails on missing documents and on chunk counts the index does not hold', () => {
    const report = decideGate({ expected: 3, present: 2, missing: ['b'], wrongChunkCount: [{ documentId: 'c', expected: 7, found: 6 }], recall: null });
    assert.equal(report.passed, false);
    assert.deepEqual(report.reasons, ['1 of 3 documents are missing from the new generation (first: b)', 'document c has 6 points in the index but 7 chunks']);
  });

  it('passes equal rankings exactly at a zero margin', () => {
    assert.equal(compareRecall(3, [0.1, 0.2, 0.7], [0.1, 0.2, 0.7], 0).passed, true);
    assert.equal(compareRecall(3, [0.5], [0.49], 0).passed, false);
  });
});
