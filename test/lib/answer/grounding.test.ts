import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsupportedTerms } from '../../../lib/answer/grounding';
import { validateModelAnswer } from '../../../lib/answer/model-answer';

describe('numbers and names in an answer must occur in its quotes', () => {
  const quote = 'Customers may return any item within thirty days of delivery for a full refund.';

  it('accepts numbers the quote spells out and names it contains', () => {
    assert.deepEqual(unsupportedTerms('Within 30 days of delivery.', [quote]), []);
    assert.deepEqual(unsupportedTerms('The default is 1048576 bytes.', ['Default: `1,048,576` (1MiB)']), []);
    assert.deepEqual(unsupportedTerms('Use the SQLite pragma.', ['SQLite has a pragma.']), []);
  });

  it('rejects a number or a proper name the quotes do not support', () => {
    assert.deepEqual(unsupportedTerms('The capital is Ulaanbaatar.', [quote]), ['Ulaanbaatar']);
    assert.deepEqual(unsupportedTerms('Returns are accepted for 60 days.', [quote]), ['60']);
  });

  it('turns such an answer into an invalid reply with the reason, which the repair prompt shows', () => {
    const reply = JSON.stringify({ found: true, citations: [{ source: 1, quote }], answer: 'Ulaanbaatar, within 45 days.' });
    const validation = validateModelAnswer(reply, [{ text: quote }]);
    assert.equal(validation.ok, false);
    assert.deepEqual(!validation.ok && validation.issues, ['answer: 45, Ulaanbaatar do not occur in the quotes; say only what they say']);
  });
});
