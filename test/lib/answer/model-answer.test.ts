import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateModelAnswer } from '../../../lib/answer/model-answer';

const sources = [
  { text: 'Customers may return any item within thirty days of delivery for a full refund.' },
  { text: 'Hotel costs are reimbursed up to the city rate\npublished by finance.' },
];
const reply = (value: unknown) => JSON.stringify(value);

describe('validateModelAnswer', () => {
  it('accepts citations whose quotes occur in the named source, ignoring case and spacing', () => {
    const result = validateModelAnswer(
      'Here you go:\n```json\n' +
        reply({ found: true, citations: [{ source: 2, quote: 'reimbursed up to the City Rate published' }], answer: 'Up to the city rate.' }) +
        '\n```',
      sources,
    );
    assert.equal(result.ok, true);
  });

  it('rejects quotes that are not in the source they name, even if another source has them', () => {
    const result = validateModelAnswer(reply({ found: true, citations: [{ source: 2, quote: 'within thirty days of delivery' }], answer: 'Thirty days.' }), sources);
    assert.deepEqual(result, { ok: false, issues: ['citations.0: the quote does not occur in source 2'] });
  });

  it('rejects invented sources, trivial quotes, uncited answers and wrong shapes, saying why', () => {
    const issues = (value: unknown) => (validateModelAnswer(typeof value === 'string' ? value : reply(value), sources) as { issues: string[] }).issues;
    assert.match(issues({ found: true, citations: [{ source: 3, quote: 'within thirty days' }], answer: 'x' })[0] ?? '', /no source 3/);
    assert.match(issues({ found: true, citations: [{ source: 1, quote: 'a full' }], answer: 'x' })[0] ?? '', /too short/);
    assert.match(issues({ found: true, citations: [], answer: 'Thirty days.' })[0] ?? '', /no citations/);
    assert.match(issues({ found: 'yes', citations: [], answer: '' })[0] ?? '', /^found:/);
    assert.deepEqual(issues('I think thirty days.'), ['the reply is not a JSON object']);
  });

  it('accepts "not found" as an answer, dropping anything else the model said', () => {
    const result = validateModelAnswer(reply({ found: false, citations: [{ source: 9, quote: 'made up' }], answer: 'Probably 30 days' }), sources);
    assert.deepEqual(result, { ok: true, answer: { found: false, citations: [], answer: '' } });
  });
});
