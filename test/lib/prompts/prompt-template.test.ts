import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shippedPrompt } from '../../helpers/prompts';
import { PROMPT_CONTRACTS, parsePrompt, promptProblems, promptVersionOf, renderPart } from '../../../lib/prompts/prompt-template';

const shipped = shippedPrompt();
const contract = PROMPT_CONTRACTS['grounded-answer'] as Record<string, readonly string[]>;

describe('prompt templates', () => {
  it('parses the shipped grounded-answer prompt into its sections, with a content hash', () => {
    const prompt = parsePrompt('grounded-answer', 1, shipped);
    assert.match(promptVersionOf(prompt), /^grounded-answer@v1#[0-9a-f]{12}$/);
    assert.deepEqual(Object.keys(prompt.parts).sort(), ['repair', 'system', 'user']);
    const user = renderPart(prompt, 'user', { sources: '[1] Thirty days.', question: 'How long?' });
    assert.match(user, /\[1\] Thirty days\.[\s\S]*Question: How long\?/);
    assert.deepEqual(promptProblems(shipped, contract), []);
  });

  it('refuses missing variables and unknown parts when rendering', () => {
    const prompt = parsePrompt('grounded-answer', 1, shipped);
    assert.throws(() => renderPart(prompt, 'user', { sources: 'x' }), /needs \{\{question\}\}/);
    assert.throws(() => renderPart(prompt, 'nope', {}), /no "nope" section/);
  });

  it('gives changed text a different hash', () => {
    assert.notEqual(parsePrompt('p', 1, '## system\nBe brief.\n').contentHash, parsePrompt('p', 2, '## system\nBe very brief.\n').contentHash);
    assert.equal(parsePrompt('p', 2, '## system\nBe very brief.\n').parts.system, 'Be very brief.');
  });

  it('names every way a new version breaks its contract', () => {
    const broken = shipped.replace('Question: {{question}}', 'Question: {{query}}').replace(/## repair[\s\S]*$/, '## notes\nnothing\n');
    const problems = promptProblems(broken, contract);
    assert.ok(problems.some((p) => p.includes('{{query}}') && p.includes('never given')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('must use {{question}}')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('"## repair" is missing')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('"## notes" is not one the platform renders')), problems.join('\n'));
  });
});
