import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scopeHash } from '../../../lib/cache/answer-cache';
import { normaliseQuestion, sameQuestion } from '../../../lib/cache/question-match';

describe('semantic cache: which questions ask the same thing', () => {
  it('takes rephrasings of the same content words', () => {
    assert.ok(sameQuestion('Does the warranty cover water damage?', 'Is water damage covered under the warranty?'));
    assert.ok(sameQuestion('How do I register a plugin?', 'What is the way to register a plugin?'));
    assert.ok(sameQuestion('Does the plan cover dental care?', 'Is dental care covered by the plan?'));
  });

  it('refuses a negation, a swapped word, another question word or another number', () => {
    assert.ok(!sameQuestion('Does the warranty cover water damage?', "Doesn't the warranty cover water damage?"));
    assert.ok(!sameQuestion('Does the warranty cover water damage?', 'Does the warranty not cover water damage?'));
    assert.ok(!sameQuestion('What is the maximum upload size?', 'What is the minimum upload size?'));
    assert.ok(!sameQuestion('Where should incidents be reported?', 'When should incidents be reported?'));
    assert.ok(!sameQuestion('Can I get a refund after 30 days?', 'Can I get a refund after 90 days?'));
    assert.ok(!sameQuestion('How many days per week can I work from home?', 'How many days per month can I work from home?'));
  });

  it('keys exact questions without case, spacing or end punctuation', () => {
    assert.equal(normaliseQuestion('  How  do I REGISTER a plugin?? '), 'how do i register a plugin');
  });

  it('hashes a scope whatever the order of its keys, and tells tenants apart', () => {
    const scope = { tenantId: 'a', collection: 'docs', contentVersion: '7', filters: { team: 'hr', year: 2024 }, topK: 8, mode: 'answer' as const, settings: { floor: 0.6 } };
    assert.equal(scopeHash(scope), scopeHash({ ...scope, filters: { year: 2024, team: 'hr' } }));
    assert.notEqual(scopeHash(scope), scopeHash({ ...scope, tenantId: 'b' }));
    assert.notEqual(scopeHash(scope), scopeHash({ ...scope, contentVersion: '8' }));
  });
});
