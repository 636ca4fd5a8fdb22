import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractiveAnswer } from '../../../lib/answer/extractive';
import type { RankedChunk } from '../../../lib/answer/types';

const chunk = (chunkId: string, text: string): RankedChunk => ({
  chunkId,
  documentId: `doc-${chunkId}`,
  version: 2,
  chunkIndex: 0,
  title: null,
  pageStart: 4,
  pageEnd: 4,
  headings: [],
  metadata: {},
  text,
  score: 0.03,
  relevance: 0.6,
});

describe('extractiveAnswer', () => {
  const chunks = [
    chunk('a', 'Our offices open at nine. Passwords are rotated every ninety days and must not be reused. Badges are collected at reception.'),
    chunk('b', 'Travel is booked through the portal. Economy class applies to trips under six hours.'),
  ];

  it('answers with the verbatim sentence that shares the most question words, citing its chunk', () => {
    const answer = extractiveAnswer('How often are passwords rotated?', chunks);
    assert.equal(answer.found, true);
    assert.equal(answer.citations.length, 1);
    const [citation] = answer.citations;
    assert.equal(citation?.quote, 'Passwords are rotated every ninety days and must not be reused.');
    assert.deepEqual({ ...citation, quote: undefined }, { documentId: 'doc-a', version: 2, chunkId: 'a', page: 4, quote: undefined, score: 0.6 });
    assert.ok(chunks[0]?.text.includes(citation?.quote ?? '-'), 'the quote is a substring of the chunk');
    assert.equal(answer.answer, 'Passwords are rotated every ninety days and must not be reused. [1]');
  });

  it('says "not found" when no sentence shares a word with the question', () => {
    assert.deepEqual(extractiveAnswer('capital of Mongolia?', chunks), { found: false, answer: 'Not found in the documents.', citations: [] });
    assert.equal(extractiveAnswer('anything', []).found, false);
  });
});
