import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageMetrics, ndcgAt, recallAt, reciprocalRank } from '../../../lib/eval/retrieval-metrics';

describe('retrieval metrics', () => {
  const relevant = new Set(['b', 'x']);
  const ranked = ['a', 'b', 'c', 'd', 'e', 'f', 'x'];

  it('computes recall@k, reciprocal rank and nDCG@k by their textbook definitions', () => {
    assert.equal(recallAt(5, ranked, relevant), 0.5);
    assert.equal(recallAt(10, ranked, relevant), 1);
    assert.equal(reciprocalRank(ranked, relevant), 0.5);
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(8);
    assert.ok(Math.abs(ndcgAt(10, ranked, relevant) - dcg / (1 + 1 / Math.log2(3))) < 1e-12);
    assert.equal(ndcgAt(10, ['b', 'x'], relevant), 1);
    assert.equal(reciprocalRank(['a'], relevant), 0);
  });

  it('averages over questions', () => {
    const metrics = averageMetrics([
      { ranked: ['b'], relevant: new Set(['b']) },
      { ranked: ['a'], relevant: new Set(['b']) },
    ]);
    assert.deepEqual(metrics, { recallAt5: 0.5, recallAt10: 0.5, mrr: 0.5, ndcgAt10: 0.5 });
  });
});
