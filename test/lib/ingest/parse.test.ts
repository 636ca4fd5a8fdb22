import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentErrorCode } from '../../../lib/errors';
import { DocumentRejected, parseDocument } from '../../../lib/ingest/parse';
import { numberedPagesPdf, passwordProtectedPdf, realPdfs } from '../../helpers/fixtures';

const rejection = (code: string) => (error: unknown) => error instanceof DocumentRejected && error.code === code;

describe('parseDocument', () => {
  it('extracts every page of a real PDF, with page offsets in order', async () => {
    const parsed = await parseDocument(realPdfs.tracingJit(), 'application/pdf');
    assert.equal(parsed.pageCount, 14);
    assert.equal(parsed.pageOffsets.length, 14);
    assert.ok(parsed.pageOffsets.every((offset, i) => i === 0 || offset > (parsed.pageOffsets[i - 1] as number)));
    assert.match(parsed.text.slice(0, 200), /Trace-based Just-in-Time Type Specialization/);
  });

  it('puts each page’s text at its own offset', async () => {
    const parsed = await parseDocument(await numberedPagesPdf(['alpha page one', 'bravo page two', 'charlie page three']), 'application/pdf');
    assert.deepEqual(
      parsed.pageOffsets.map((start, i) => parsed.text.slice(start, parsed.pageOffsets[i + 1] ?? parsed.text.length).trim()),
      ['alpha page one', 'bravo page two', 'charlie page three'],
    );
  });

  it('rejects a corrupt PDF as pdf_corrupt', async () => {
    await assert.rejects(parseDocument(realPdfs.corrupt(), 'application/pdf'), rejection(DocumentErrorCode.pdfCorrupt));
  });

  it('rejects a truncated PDF as pdf_corrupt', async () => {
    const bytes = realPdfs.nitricOxide();
    await assert.rejects(parseDocument(bytes.subarray(0, 4000), 'application/pdf'), rejection(DocumentErrorCode.pdfCorrupt));
  });

  it('rejects a password-protected PDF as pdf_encrypted', async () => {
    await assert.rejects(parseDocument(await passwordProtectedPdf(), 'application/pdf'), rejection(DocumentErrorCode.pdfEncrypted));
  });

  it('rejects a PDF without text as no_extractable_text', async () => {
    await assert.rejects(parseDocument(await numberedPagesPdf(['', '']), 'application/pdf'), rejection(DocumentErrorCode.noExtractableText));
  });

  it('finds Markdown headings outside code fences', async () => {
    const md = '# Guide\n\nIntro.\n\n## Install\n\n```sh\n# not a heading\n```\n\n### Linux\n\nRun it.\n';
    const parsed = await parseDocument(Buffer.from(md), 'text/markdown');
    assert.deepEqual(parsed.headings.map((h) => [h.level, h.text]), [[1, 'Guide'], [2, 'Install'], [3, 'Linux']]);
    assert.equal(parsed.text.slice(parsed.headings[2]!.offset).split('\n')[0], '### Linux');
  });

  it('turns HTML into text with headings, dropping scripts and styles', async () => {
    const html = '<!doctype html><html><head><title>t</title><style>p{}</style></head><body><h1>Refunds &amp; returns</h1><p>Within <b>30</b> days.</p><script>alert(1)</script><h2>Exceptions</h2><p>Sale items.</p></body></html>';
    const parsed = await parseDocument(Buffer.from(html), 'text/html');
    assert.deepEqual(parsed.headings.map((h) => h.text), ['Refunds & returns', 'Exceptions']);
    assert.match(parsed.text, /Within 30 days\./);
    assert.doesNotMatch(parsed.text, /alert|p\{\}/);
  });

  it('rejects text that is not UTF-8, and text that is empty', async () => {
    await assert.rejects(parseDocument(Buffer.from([0x48, 0x69, 0xff, 0xfe, 0x21]), 'text/plain'), rejection(DocumentErrorCode.invalidEncoding));
    await assert.rejects(parseDocument(Buffer.from(' \n\t \n'), 'text/plain'), rejection(DocumentErrorCode.emptyDocument));
  });
});
