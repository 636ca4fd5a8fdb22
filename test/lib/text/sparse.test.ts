import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BM25, encodeDocument, encodeQuery, inverseDocumentFrequency, termId, tokenize } from '../../../lib/text/sparse';

describe('BM25 sparse encoding', () => {
  it('tokenizes across scripts, lowercases and drops stopwords', () => {
    assert.deepEqual(tokenize('The Café served 3 crêpes; the CAFÉ closed.'), ['café', 'served', '3', 'crêpes', 'café', 'closed']);
  });

  it('hashes terms to stable unsigned 32-bit ids', () => {
    assert.equal(termId('temporal'), termId('temporal'));
    assert.notEqual(termId('temporal'), termId('temporary'));
    assert.ok(termId('x') >= 0 && termId('x') <= 0xffffffff);
    assert.equal(termId('a'), 0xe40c292c, 'FNV-1a of "a" is a published constant');
  });

  it('saturates term frequency and normalises for length', () => {
    const once = encodeDocument('retrieval');
    const many = encodeDocument('retrieval retrieval retrieval retrieval retrieval');
    const weightOf = (v: { indices: number[]; values: number[] }) => v.values[v.indices.indexOf(termId('retrieval'))]!;
    assert.ok(weightOf(many) > weightOf(once));
    assert.ok(weightOf(many) < BM25.k1 + 1, 'BM25 weight is bounded by k1 + 1');
    const long = encodeDocument('retrieval ' + 'filler '.repeat(400));
    assert.ok(weightOf(long) < weightOf(once), 'the same term weighs less in a longer chunk');
  });

  it('gives sorted unique indices; queries weigh each term once', () => {
    const query = encodeQuery('rate limits and rate budgets');
    assert.deepEqual(query.indices, [...new Set(query.indices)].sort((a, b) => a - b));
    assert.ok(query.values.every((v) => v === 1));
    assert.equal(query.indices.length, 3);
  });

  it('weighs rare terms above common ones', () => {
    assert.ok(inverseDocumentFrequency(1000, 5) > inverseDocumentFrequency(1000, 500));
    assert.ok(inverseDocumentFrequency(1000, 1000) > 0, 'never negative, like Qdrant');
  });
});
