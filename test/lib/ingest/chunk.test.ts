import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chunkDocument } from '../../../lib/ingest/chunk';
import { parseDocument } from '../../../lib/ingest/parse';
import type { LocalOnnxEmbedder } from '../../../lib/models/local-onnx-embedder';
import { localEmbedder } from '../../helpers/embedder';
import { numberedPagesPdf, realPdfs } from '../../helpers/fixtures';

describe('chunkDocument', () => {
  let embedder: LocalOnnxEmbedder;
  before(async () => {
    embedder = await localEmbedder();
  });
  after(() => embedder.close());
  const count = (text: string) => embedder.countTokens(text);

  it('keeps every chunk within the token budget and covers the whole text in order', async () => {
    const parsed = await parseDocument(realPdfs.tracingJit(), 'application/pdf');
    const chunks = await chunkDocument(parsed, { chunkSizeTokens: 200, chunkOverlapTokens: 30 }, count, false);
    assert.ok(chunks.length > 40, `expected many chunks, got ${chunks.length}`);
    for (const chunk of chunks) {
      assert.ok(chunk.tokenCount <= 200, `chunk ${chunk.index} has ${chunk.tokenCount} tokens`);
      assert.equal(parsed.text.slice(chunk.charStart, chunk.charEnd), chunk.text);
    }
    assert.deepEqual(chunks.map((c) => c.index), chunks.map((_, i) => i));
    assert.ok(chunks.every((c, i) => i === 0 || c.charStart > chunks[i - 1]!.charStart));
    // Together the chunks cover every word of the text.
    const covered = new Set(chunks.flatMap((c) => c.text.split(/\s+/)));
    const words = parsed.text.split(/\s+/).filter(Boolean);
    assert.ok(words.filter((w) => !covered.has(w)).length === 0);
  });

  it('records the pages each chunk spans', async () => {
    const pages = ['first', 'second', 'third', 'fourth'].map((name) => `This is the ${name} page. ` + `Sentence about the ${name} page topic. `.repeat(40));
    const parsed = await parseDocument(await numberedPagesPdf(pages), 'application/pdf');
    const chunks = await chunkDocument(parsed, { chunkSizeTokens: 120, chunkOverlapTokens: 0 }, count, false);
    for (const chunk of chunks) {
      const names = ['first', 'second', 'third', 'fourth'].filter((name) => chunk.text.includes(name));
      assert.equal(names[0], ['first', 'second', 'third', 'fourth'][chunk.pageStart! - 1], `chunk ${chunk.index} starts on page ${chunk.pageStart}: ${chunk.text.slice(0, 60)}`);
      assert.equal(names[names.length - 1], ['first', 'second', 'third', 'fourth'][chunk.pageEnd! - 1]);
    }
    assert.deepEqual([...new Set(chunks.map((c) => c.pageStart))], [1, 2, 3, 4]);
  });

  it('gives each chunk the heading path it sits under', async () => {
    const section = (topic: string) => `${topic} details follow here with plenty of words about ${topic}. `.repeat(12);
    const md = `# Handbook\n\n${section('intro')}\n\n## Travel\n\n${section('travel')}\n\n### Visas\n\n${section('visa')}\n\n## Expenses\n\n${section('expense')}\n`;
    const parsed = await parseDocument(Buffer.from(md), 'text/markdown');
    const chunks = await chunkDocument(parsed, { chunkSizeTokens: 80, chunkOverlapTokens: 0 }, count, true);
    const pathOf = (word: string) => chunks.find((c) => c.text.includes(`${word} details`))?.headings;
    assert.deepEqual(pathOf('intro'), ['Handbook']);
    assert.deepEqual(pathOf('travel'), ['Handbook', 'Travel']);
    assert.deepEqual(pathOf('visa'), ['Handbook', 'Travel', 'Visas']);
    assert.deepEqual(pathOf('expense'), ['Handbook', 'Expenses']);
    assert.ok(chunks.every((c) => c.pageStart === null));
  });
});
