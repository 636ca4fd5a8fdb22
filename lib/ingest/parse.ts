import { Parser } from 'htmlparser2';
import { getDocumentProxy } from 'unpdf';
import { DocumentErrorCode } from '../errors';
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
  if (mediaType === 'text/html') return htmlToText(raw);
  const text = normalizeText(raw);
  return { text, pageOffsets: [], pageCount: null, headings: mediaType === 'text/markdown' ? markdownHeadings(text) : [] };
}

/**
 * What one document may expand to. A small PDF can declare thousands of pages or carry compressed
 * streams that inflate to gigabytes of text (a "PDF bomb"): past these, the document is rejected.
 */
export const PDF_LIMITS = { maxPages: 5_000, maxTextChars: 20_000_000 };

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
    const pageOffsets: number[] = [];
    let text = '';
    for (let number = 1; number <= pdf.numPages; number++) {
      const content = await pdf.getPage(number).then((page) => page.getTextContent());
      let pageText = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        pageText += item.str + (item.hasEOL ? '\n' : '');
      }
      pageOffsets.push(text.length);
      text += normalizeText(pageText).trim() + '\n\n';
      if (text.length > PDF_LIMITS.maxTextChars) {
        throw new DocumentRejected(DocumentErrorCode.textTooLong, `the PDF expands to more than ${PDF_LIMITS.maxTextChars} characters of text by page ${number}`);
      }
      onPage?.(number, pdf.numPages);
    }
    return { text, pageOffsets, pageCount: pdf.numPages, headings: [] };
  } catch (error) {
    if (error instanceof DocumentRejected) throw error;
    throw new DocumentRejected(DocumentErrorCode.pdfCorrupt, `the PDF cannot be read: ${(error as Error).message}`);
  } finally {
    await pdf.loadingTask.destroy();
  }
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
  return { text, pageOffsets: [], pageCount: null, headings: markdownHeadings(text) };
}
