import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPrompt, renderPart } from '../../../lib/prompts/prompt-registry';

describe('prompt registry', () => {
  it('loads the shipped grounded-answer prompt with its version and content hash', () => {
    const prompt = loadPrompt('grounded-answer', 'v1');
    assert.equal(prompt.id, 'grounded-answer@v1');
    assert.match(prompt.contentHash, /^[0-9a-f]{12}$/);
    assert.deepEqual(Object.keys(prompt.parts).sort(), ['repair', 'system', 'user']);
    const user = renderPart(prompt, 'user', { sources: '[1] Thirty days.', question: 'How long?' });
    assert.match(user, /\[1\] Thirty days\.[\s\S]*Question: How long\?/);
  });

  it('refuses missing variables, unknown parts and path tricks', () => {
    const prompt = loadPrompt('grounded-answer', 'v1');
    assert.throws(() => renderPart(prompt, 'user', { sources: 'x' }), /needs \{\{question\}\}/);
    assert.throws(() => renderPart(prompt, 'nope', {}), /no "nope" section/);
    assert.throws(() => loadPrompt('../etc', 'v1'), /invalid prompt reference/);
  });

  it('gives a changed file a different hash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prompts-'));
    mkdirSync(join(dir, 'p'));
    writeFileSync(join(dir, 'p', 'v1.md'), '## system\nBe brief.\n');
    writeFileSync(join(dir, 'p', 'v2.md'), '## system\nBe very brief.\n');
    assert.notEqual(loadPrompt('p', 'v1', dir).contentHash, loadPrompt('p', 'v2', dir).contentHash);
    assert.equal(loadPrompt('p', 'v2', dir).parts.system, 'Be very brief.');
  });
});
