import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namedTerms, unmentionedNames } from '../../../lib/answer/evidence';
import { splitSentences } from '../../../lib/answer/sentences';

describe('sentences', () => {
  it('are exact spans of the text, and long ones are cut at a word', () => {
    const text = `First sentence is here.  Second one follows it. Long ${'word '.repeat(120)}end.`;
    const spans = splitSentences(text);
    assert.deepEqual(spans.slice(0, 2).map((s) => s.text), ['First sentence is here.', 'Second one follows it.']);
    for (const span of spans) assert.equal(text.slice(span.start, span.end), span.text);
    assert.ok((spans[2]?.text.length ?? 0) <= 400 && spans[2]?.text.endsWith('word') && spans[2]?.text.startsWith('Long'));
  });

  it('do not break after abbreviations, inside links or before lower-case words', () => {
    const text = 'Hooks run in order, e.g. the onRequest hook first. See [onTimeout](./Hooks.md#ontimeout) called when a request times out. Version 4.2 is current.';
    assert.deepEqual(
      splitSentences(text).map((s) => s.text),
      ['Hooks run in order, e.g. the onRequest hook first.', 'See [onTimeout](./Hooks.md#ontimeout) called when a request times out.', 'Version 4.2 is current.'],
    );
  });

  it('end at line breaks: parsing has already joined the lines of a paragraph', () => {
    assert.deepEqual(splitSentences('Introduction 1\nMethod and materials 2').map((s) => s.text), ['Introduction 1', 'Method and materials 2']);
  });
});

describe('names in a question', () => {
  it('are acronyms, CamelCase, letters with digits and capitalised words after the first', () => {
    assert.deepEqual(namedTerms('How do I read a PostgreSQL table from Excel with CUDA and MP4?'), ['PostgreSQL', 'Excel', 'CUDA', 'MP4']);
    assert.deepEqual(namedTerms('Which Debian release ships it?'), ['Debian']);
    assert.deepEqual(namedTerms('How Do I Export A Chart?'), [], 'Title Case names nothing');
  });

  it('are unmentioned when no candidate has them, in any case or number', () => {
    const chunks = [{ text: 'Export plots to CSV files. Tokens are checked.', kind: 'text' as const, headings: ['Output'], documentId: 'd', version: 1, chunkIndex: 0 }];
    assert.deepEqual(unmentionedNames('Can I export to Excel or CSV with JSON Web Tokens?', chunks), ['Excel', 'JSON', 'Web']);
  });
});
