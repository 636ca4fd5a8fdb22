import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnswerFieldStream } from '../../../lib/answer/answer-stream';

describe('AnswerFieldStream', () => {
  it('yields only the decoded "answer" string of a JSON reply as it arrives, whatever the chunking', () => {
    const reply = JSON.stringify({ found: true, citations: [{ source: 1, quote: 'say "answer": no' }], answer: 'Thirty "days"\nand a caf\u00e9 \\o/' });
    for (const size of [1, 3, 7, 1000]) {
      const stream = new AnswerFieldStream();
      let out = '';
      for (let i = 0; i < reply.length; i += size) out += stream.push(reply.slice(i, i + size));
      assert.equal(out, 'Thirty "days"\nand a café \\o/', `chunks of ${size}`);
    }
  });
});
