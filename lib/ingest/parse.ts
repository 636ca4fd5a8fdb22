import { Parser } from 'htmlparser2';
import { getDocumentProxy } from 'unpdf';
import { DocumentErrorCode } from '../errors';
import { layOutPdf, type BlockKind, type PageText } from './pdf-layout';
import type { MediaType } from './types';

export interface Heading {
  offset: number;
  level: number;
  text: string;
}

/** A document reduced to text, with where each page starts and where its headings are. */
export interface ParsedDocument {
  text: string;
  /** Offset in `text` where page i + 1 starts; empty for formats without pages. */
  pageOffsets: number[];
  /** Null for formats without pages. */
  pageCount: number | null;
  headings: Heading[];
  /** Stretches of the text that are not body text (contents, index, references, captions); ordered, disjoint. */
  blocks: KindSpan[];
}

export interface KindSpan {
  start: number;
  end: number;
  kind: Exclude<BlockKind, 'text'>;
}

/** A problem with the document itself: retrying cannot fix it. */
export class DocumentRejected extends Error {
  constructor(
    readonly code: DocumentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentRejected';
  }
}

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DocumentRejected(DocumentErrorCode.invalidEncoding, 'text is not valid UTF-8');
  }
}

/** NFC, unix newlines, no control characters but tab and newline. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}

export async function parseDocument(bytes: Uint8Array, mediaType: MediaType, onPage?: (page: number, total: number) => void): Promise<ParsedDocument> {
  const parsed = mediaType === 'application/pdf' ? await parsePdf(bytes, onPage) : parseText(decodeUtf8(bytes), mediaType);
  if (parsed.text.trim().length === 0) {
    throw new DocumentRejected(
      mediaType === 'application/pdf' ? DocumentErrorCode.noExtractableText : DocumentErrorCode.emptyDocument,
      mediaType === 'application/pdf' ? 'the PDF has no extractable text (scanned pages need OCR, which is not supported)' : 'the document is empty',
    );
  }
  return parsed;
}

function parseText(raw: string, mediaType: Exclude<MediaType, 'application/pdf'>): ParsedDocument {
  if (raw.length > TEXT_LIMITS.maxTextChars) {
    throw new DocumentRejected(DocumentErrorCode.textTooLong, `the document has ${raw.length} characters of text; at most ${TEXT_LIMITS.maxTextChars} are accepted`);
  }
  if (mediaType === 'text/html') return htmlToText(raw);
  const text = unwrapLines(normalizeText(raw), mediaType === 'text/markdown');
  return { text, pageOffsets: [], pageCount: null, headings: mediaType === 'text/markdown' ? markdownHeadings(text) : [], blocks: [] };
}

/**
 * Hard-wrapped prose (a Markdown paragraph over several source lines, a wrapped text file) is one
 * sentence flow to a reader: its single line breaks become spaces. Breaks before list items,
 * headings, quotes, tables and indented or fenced code stay, and so do paragraph breaks. The text
 * keeps its length, so every offset (headings, chunks) stays where it was.
 */
export function unwrapLines(text: string, markdown: boolean): string {
  const lines = text.split('\n');
  let inFence = false;
  const marker = /^([-*+•]\s|\d{1,3}[.)]\s|#{1,6}\s|>|\||```|~~~|<|[=-]+\s*$|\*{3,}\s*$)/;
  const indent = (line: string) => /^[ \t]*/.exec(line)?.[0].replace(/\t/g, '    ').length ?? 0;
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (markdown && /^\s*(```|~~~)/.test(line)) inFence = !inFence;
    out += line;
    if (i === lines.length - 1) break;
    const next = lines[i + 1] as string;
    const listed = /^\s*([-*+•]|\d{1,3}[.)])\s/.test(line) || indent(line) >= 2;
    const soft =
      !inFence &&
      line.trim().length > 0 &&
      next.trim().length > 0 &&
      !/^\s*(#{1,6}\s|\||```|~~~)/.test(line) &&
      !marker.test(next.trimStart()) &&
      (indent(next) < 4 || listed) &&
      !(indent(line) >= 4 && !listed);
    out += soft ? ' ' : '\n';
  }
  return out;
}

/**
 * What one document may expand to. A small PDF can declare thousands of pages or carry compressed
 * streams that inflate to gigabytes of text (a "PDF bomb"): past these, the document is rejected.
 */
export const PDF_LIMITS = { maxPages: 5_000, maxTextChars: 20_000_000 };

/**
 * Text of any format past this is refused: 20 million characters are about 35,000 chunks, hours
 * of embedding on a small machine; split such a corpus into documents.
 */
export const TEXT_LIMITS = { maxTextChars: PDF_LIMITS.maxTextChars };

async function parsePdf(bytes: Uint8Array, onPage?: (page: number, total: number) => void): Promise<ParsedDocument> {
  let pdf;
  try {
    // pdf.js takes ownership of (and detaches) the buffer it is given: pass a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { stopAtErrors: false });
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'PasswordException') throw new DocumentRejected(DocumentErrorCode.pdfEncrypted, 'the PDF is password-protected');
    throw new DocumentRejected(DocumentErrorCode.pdfCorrupt, `the PDF cannot be read: ${(error as Error).message}`);
  }
  if (pdf.numPages > PDF_LIMITS.maxPages) {
    await pdf.loadingTask.destroy();
    throw new DocumentRejected(DocumentErrorCode.pdfTooManyPages, `the PDF has ${pdf.numPages} pages; at most ${PDF_LIMITS.maxPages} are accepted`);
  }
  try {
    const pages: PageText[] = [];
    let characters = 0;
    for (let number = 1; number <= pdf.numPages; number++) {
      const page = await pdf.getPage(number);
      // Positions are in the page's own space; its view box need not start at 0, 0.
      const [left = 0, bottom = 0, right = 612, top = 792] = page.view;
      const content = await page.getTextContent();
      const items: PageText['items'] = [];
      for (const item of content.items) {
        if (!('str' in item)) continue;
        const str = cleanPdfText(item.str);
        characters += str.length;
        const [, , c = 0, d = 0, x = 0, y = 0] = item.transform as number[];
        items.push({ str, x: x - left, y: y - bottom, width: item.width, size: item.height || Math.hypot(c, d), monospace: content.styles[item.fontName]?.fontFamily === 'monospace' });
      }
      pages.push({ width: right - left, height: top - bottom, items });
      page.cleanup();
      if (characters > PDF_LIMITS.maxTextChars) {
        throw new DocumentRejected(DocumentErrorCode.textTooLong, `the PDF expands to more than ${PDF_LIMITS.maxTextChars} characters of text by page ${number}`);
      }
      onPage?.(number, pdf.numPages);
    }
    return { ...assemble(layOutPdf(pages), pdf.numPages), pageCount: pdf.numPages };
  } catch (error) {
    if (error instanceof DocumentRejected) throw error;
    throw new DocumentRejected(DocumentErrorCode.pdfCorrupt, `the PDF cannot be read: ${(error as Error).message}`);
  } finally {
    await pdf.loadingTask.destroy();
  }
}

/** NFC, ligatures (ﬁ, ﬂ) as letters so words match, no control characters. */
function cleanPdfText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\ufb00-\ufb06]/g, (ligature) => ligature.normalize('NFKC'))
    .replace(/[\u0000-\u001f\u007f\u00ad]/g, '');
}

/** Blocks become paragraphs separated by blank lines; page offsets fall where each page's text begins. */
function assemble(blocks: ReturnType<typeof layOutPdf>, pageCount: number): Omit<ParsedDocument, 'pageCount'> {
  let text = '';
  const pageOffsets = new Array<number>(pageCount).fill(-1);
  const headings: Heading[] = [];
  const spans: KindSpan[] = [];
  for (const block of blocks) {
    if (text.length > 0) text += '\n\n';
    const start = text.length;
    for (const part of block.parts) {
      if (pageOffsets[part.page - 1] === -1) pageOffsets[part.page - 1] = text.length;
      text += part.text;
    }
    if (block.headingLevel !== undefined) headings.push({ offset: start, level: block.headingLevel, text: text.slice(start) });
    const previous = spans.at(-1);
    if (block.kind !== 'text' && previous?.kind === block.kind && previous.end === start - 2) previous.end = text.length;
    else if (block.kind !== 'text') spans.push({ start, end: text.length, kind: block.kind });
  }
  text += '\n';
  // A page without text starts where the next page with text starts.
  for (let page = pageCount - 1; page >= 0; page--) if (pageOffsets[page] === -1) pageOffsets[page] = pageOffsets[page + 1] ?? text.length - 1;
  return { text, pageOffsets, headings, blocks: spans };
}

export function markdownHeadings(text: string): Heading[] {
  const headings: Heading[] = [];
  let offset = 0;
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const match = !inFence && /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (match) headings.push({ offset, level: match[1]!.length, text: match[2]! });
    offset += line.length + 1;
  }
  return headings;
}

const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'head', 'svg']);
const BLOCKS = new Set(['p', 'div', 'section', 'article', 'li', 'tr', 'br', 'pre', 'blockquote', 'table', 'ul', 'ol', 'header', 'footer', 'main', 'nav', 'aside', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'title']);

/** HTML to text that keeps its structure: block breaks, and headings rendered as Markdown. */
function htmlToText(html: string): ParsedDocument {
  let out = '';
  let skipDepth = 0;
  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED.has(name)) skipDepth++;
        if (skipDepth > 0) return;
        if (BLOCKS.has(name)) out += '\n';
        const level = /^h([1-6])$/.exec(name)?.[1];
        if (level) out += `${'#'.repeat(Number(level))} `;
      },
      ontext(text) {
        if (skipDepth === 0) out += text.replace(/\s+/g, ' ');
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) skipDepth = Math.max(0, skipDepth - 1);
        if (skipDepth > 0) return;
        if (BLOCKS.has(name)) out += '\n';
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  // Headings are found after normalisation, which shifts offsets.
  const text = normalizeText(out.replace(/^[ \t]+/gm, ''));
  return { text, pageOffsets: [], pageCount: null, headings: markdownHeadings(text), blocks: [] };
}
