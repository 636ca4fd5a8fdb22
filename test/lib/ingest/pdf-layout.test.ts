import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PDFDocument, StandardFonts, type PDFFont, type PDFPage } from 'pdf-lib';
import { chunkDocument } from '../../../lib/ingest/chunk';
import { parseDocument, type ParsedDocument } from '../../../lib/ingest/parse';

/** Lines drawn where a typesetter would put them: letter-size pages, 10 pt text, 12 pt leading. */
async function pdfOf(draw: (page: (number: number) => PDFPage, font: PDFFont) => void, pages: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const made = Array.from({ length: pages }, () => doc.addPage([612, 792]));
  draw((number) => made[number - 1] as PDFPage, font);
  return doc.save();
}

function lines(page: PDFPage, font: PDFFont, x: number, top: number, texts: string[], size = 10): void {
  texts.forEach((text, i) => page.drawText(text, { x, y: top - i * 12, size, font }));
}

const pageOf = (parsed: ParsedDocument, offset: number) => parsed.pageOffsets.filter((start) => start <= offset).length;

describe('PDF text as a reader sees it', () => {
  it('reads a two-column page column by column, joins lines into paragraphs and undoes hyphenation', async () => {
    const left = [
      'The left column starts the article and its first',
      'paragraph runs over several lines before it con-',
      'cludes with a full stop at the end of the line.',
    ];
    const right = [
      'The right column holds the second paragraph, which',
      'a reader meets only after the whole left column.',
    ];
    // Drawn row by row across both columns, as many producers write them: stream order is not reading order.
    const leftColumn = [...left, ...Array.from({ length: 8 }, (_, i) => `Left filler line number ${i + 1} of the first column text.`)];
    const rightColumn = [...right, '', ...Array.from({ length: 8 }, (_, i) => `Right filler line number ${i + 1} of the second column.`)];
    const bytes = await pdfOf((page, font) => {
      for (let row = 0; row < Math.max(leftColumn.length, rightColumn.length); row++) {
        if (leftColumn[row]) lines(page(1), font, 54, 700 - row * 12, [leftColumn[row] as string]);
        if (rightColumn[row]) lines(page(1), font, 320, 700 - row * 12, [rightColumn[row] as string]);
      }
    }, 1);
    const parsed = await parseDocument(bytes, 'application/pdf');
    assert.ok(parsed.text.includes('before it concludes with a full stop'), parsed.text);
    const leftAt = parsed.text.indexOf('The left column starts');
    const rightAt = parsed.text.indexOf('The right column holds');
    const lastLeft = parsed.text.indexOf('Left filler line number 8');
    assert.ok(leftAt >= 0 && rightAt > lastLeft && lastLeft > leftAt, `left column first: ${parsed.text}`);
    assert.ok(!/con-\s*cludes/.test(parsed.text), 'hyphenation at the line end is undone');
    assert.ok(parsed.text.includes('its first paragraph runs'), 'lines of a paragraph are joined with a space');
  });

  it('drops running headers, footers and page numbers, and keeps page spans exact', async () => {
    const bytes = await pdfOf((page, font) => {
      for (let n = 1; n <= 4; n++) {
        page(n).drawText('Widget Handbook — Operations', { x: 54, y: 750, size: 9, font });
        page(n).drawText(`${n}`, { x: 550, y: 40, size: 9, font });
        lines(page(n), font, 54, 700, [`Page ${n} explains topic number ${n} of the handbook in a sentence.`, `Its second line says a little more about topic ${n}.`]);
      }
    }, 4);
    const parsed = await parseDocument(bytes, 'application/pdf');
    assert.ok(!parsed.text.includes('Widget Handbook'), `header gone: ${parsed.text}`);
    assert.ok(!/^\d+$/m.test(parsed.text), `page numbers gone: ${JSON.stringify(parsed.text)}`);
    for (let n = 1; n <= 4; n++) {
      const at = parsed.text.indexOf(`explains topic number ${n}`);
      assert.ok(at >= 0);
      assert.equal(pageOf(parsed, at), n, `topic ${n} is on page ${n}`);
    }
    const chunks = await chunkDocument(parsed, { chunkSizeTokens: 20, chunkOverlapTokens: 0 }, (t) => t.split(/\s+/).length, false);
    for (const chunk of chunks) {
      const pages = [...chunk.text.matchAll(/topic number (\d)/g)].map((m) => Number(m[1]));
      if (pages.length === 0) continue;
      assert.equal(chunk.pageStart, Math.min(...pages), `chunk ${chunk.index} starts on the page of its first topic`);
      assert.equal(chunk.pageEnd, Math.max(...pages));
    }
  });

  it('labels contents, references and captions, and chunks each kind on its own', async () => {
    const bytes = await pdfOf((page, font) => {
      lines(page(1), font, 54, 700, ['Contents', 'Introduction . . . . . . . . . . . . . . 2', 'Method . . . . . . . . . . . . . . . . . 2', 'Results . . . . . . . . . . . . . . . . 3', 'References . . . . . . . . . . . . . . 3']);
      lines(page(2), font, 54, 700, [
        'The method measures the flow of water through the pipe at three points and',
        'records the pressure at each of them once a minute for a full week.',
        'Figure 1: The pipe with its three pressure sensors.',
      ]);
      lines(page(3), font, 54, 700, ['References'], 14);
      lines(page(3), font, 54, 670, [
        '[1] A. Author and B. Writer. Flow in pipes. Journal of Water, 12(3), 2001.',
        '[2] C. Scholar. Pressure sensors in practice. Sensor Press, 2015.',
        '[3] D. Reader. Measuring water. Proceedings of Flow, 2019.',
      ]);
    }, 3);
    const parsed = await parseDocument(bytes, 'application/pdf');
    const kindAt = (phrase: string) => parsed.blocks.find((b) => parsed.text.slice(b.start, b.end).includes(phrase))?.kind;
    assert.equal(kindAt('Method . . .'), 'toc');
    assert.equal(kindAt('Figure 1: The pipe'), 'caption');
    assert.equal(kindAt('[2] C. Scholar'), 'references');
    assert.equal(kindAt('measures the flow of water'), undefined, 'body text is not labeled');
    const chunks = await chunkDocument(parsed, { chunkSizeTokens: 200, chunkOverlapTokens: 0 }, (t) => t.split(/\s+/).length, false);
    assert.ok(chunks.some((c) => c.kind === 'references' && c.text.includes('[1] A. Author')));
    assert.ok(chunks.every((c) => c.kind !== 'text' || !c.text.includes('[2] C. Scholar')), 'no chunk mixes references into prose');
  });
});
