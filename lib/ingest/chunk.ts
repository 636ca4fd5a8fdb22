import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { PlatformError } from '../errors';
import type { Heading, KindSpan, ParsedDocument } from './parse';
import type { BlockKind } from './pdf-layout';
import type { ChunkingSettings, MediaType } from './types';

export interface Chunk {
  index: number;
  text: string;
  tokenCount: number;
  /** 1-based page numbers the chunk spans; null for formats without pages. */
  pageStart: number | null;
  pageEnd: number | null;
  /** Heading path in effect where the chunk starts, outermost first. */
  headings: string[];
  charStart: number;
  charEnd: number;
  /** What the chunk is: body text, or contents, index, references, a caption (one kind per chunk). */
  kind: BlockKind;
}

const SENTENCE_END = '. ';

/**
 * langchain's recursive splitter keeps a separator at the start of the piece after it, which for
 * ". " would start every piece with a full stop. Sentences are cut after their end instead.
 */
class SentenceAwareSplitter extends RecursiveCharacterTextSplitter {
  override splitOnSeparator(text: string, separator: string): string[] {
    if (separator !== SENTENCE_END) return super.splitOnSeparator(text, separator);
    return text.split(/(?<=[.!?]["'”’)\]]?\s+)(?=\S)/u).filter((piece) => piece !== '');
  }
}

/** Markdown and HTML (rendered as Markdown) split on their headings first. */
export function isStructured(mediaType: MediaType): boolean {
  return mediaType === 'text/markdown' || mediaType === 'text/html';
}

/** A new collection's chunking: the configured size, never beyond what the model reads. */
export function defaultChunking(config: { CHUNK_SIZE_TOKENS: number; CHUNK_OVERLAP_TOKENS: number }, maxInputTokens: number): ChunkingSettings {
  return { chunkSizeTokens: Math.min(config.CHUNK_SIZE_TOKENS, maxInputTokens), chunkOverlapTokens: config.CHUNK_OVERLAP_TOKENS };
}

/** Chunks the model can read whole, with an overlap smaller than a chunk: else a 422 naming the limit. */
export function assertChunkingFits(chunking: ChunkingSettings, model: { modelId: string; maxInputTokens: number }): void {
  if (chunking.chunkSizeTokens > model.maxInputTokens) {
    throw new PlatformError('invalid_chunking', `chunkSizeTokens ${chunking.chunkSizeTokens} exceeds what ${model.modelId} reads (${model.maxInputTokens} tokens)`, 422);
  }
  if (chunking.chunkOverlapTokens >= chunking.chunkSizeTokens) {
    throw new PlatformError('invalid_chunking', `chunkOverlapTokens (${chunking.chunkOverlapTokens}) must be smaller than chunkSizeTokens (${chunking.chunkSizeTokens})`, 422);
  }
}

/**
 * Splits on structure first (headings, paragraphs, sentences) with langchain's recursive splitter,
 * measuring length in the embedding model's own tokens, so no chunk is silently truncated.
 */
export async function chunkDocument(
  parsed: ParsedDocument,
  settings: ChunkingSettings,
  countTokens: (text: string) => number,
  structured: boolean,
): Promise<Chunk[]> {
  // The splitter measures the same pieces again and again (about 3 times each on a real PDF).
  const counted = new Map<string, number>();
  const lengthFunction = (text: string) => {
    let tokens = counted.get(text);
    if (tokens === undefined) counted.set(text, (tokens = countTokens(text)));
    return tokens;
  };
  const base = structured ? RecursiveCharacterTextSplitter.getSeparatorsForLanguage('markdown') : ['\n\n', '\n', ' ', ''];
  // Between lines and words: sentences, so a long paragraph is cut where a sentence ends.
  const separators = [...base.slice(0, base.indexOf(' ')), SENTENCE_END, ...base.slice(base.indexOf(' '))];
  const splitter = new SentenceAwareSplitter({ chunkSize: settings.chunkSizeTokens, chunkOverlap: settings.chunkOverlapTokens, lengthFunction, separators });
  const chunks: Chunk[] = [];
  const headingPath = headingPathAt(parsed.headings);
  // Each stretch of one kind is split on its own, so no chunk mixes a reference list into prose.
  for (const segment of segmentsOf(parsed.text.length, parsed.blocks ?? [])) {
    const text = parsed.text.slice(segment.start, segment.end);
    const pieces = (await splitter.splitText(text)).filter((piece) => piece.trim().length > 0);
    let searchFrom = 0;
    for (const piece of pieces) {
      // The splitter returns trimmed substrings of the text; find each after the previous start.
      const found = text.indexOf(piece, searchFrom);
      const charStart = segment.start + (found >= 0 ? found : searchFrom);
      const charEnd = charStart + piece.length;
      searchFrom = charStart - segment.start + 1;
      chunks.push({
        index: chunks.length,
        text: piece,
        tokenCount: lengthFunction(piece),
        pageStart: pageAt(parsed.pageOffsets, charStart),
        pageEnd: pageAt(parsed.pageOffsets, Math.max(charStart, charEnd - 1)),
        headings: headingPath(charStart),
        charStart,
        charEnd,
        kind: segment.kind,
      });
    }
  }
  return chunks;
}

/** The text cut into consecutive stretches of one kind: the labeled blocks, body text between them. */
function segmentsOf(length: number, blocks: KindSpan[]): { start: number; end: number; kind: BlockKind }[] {
  const segments: { start: number; end: number; kind: BlockKind }[] = [];
  let at = 0;
  for (const block of blocks) {
    if (block.start > at) segments.push({ start: at, end: block.start, kind: 'text' });
    segments.push({ start: block.start, end: block.end, kind: block.kind });
    at = block.end;
  }
  if (at < length) segments.push({ start: at, end: length, kind: 'text' });
  return segments.filter((segment) => segment.end > segment.start);
}

/** 1-based page holding the offset: the last page whose start is at or before it. */
function pageAt(pageOffsets: number[], offset: number): number | null {
  if (pageOffsets.length === 0) return null;
  let low = 0;
  let high = pageOffsets.length - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if ((pageOffsets[mid] as number) <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/** Returns a function of increasing offsets giving the heading path at each; one pass overall. */
function headingPathAt(headings: Heading[]): (offset: number) => string[] {
  const stack: Heading[] = [];
  let next = 0;
  return (offset) => {
    while (next < headings.length && (headings[next] as Heading).offset <= offset) {
      const heading = headings[next++] as Heading;
      while (stack.length > 0 && (stack[stack.length - 1] as Heading).level >= heading.level) stack.pop();
      stack.push(heading);
    }
    return stack.map((h) => h.text);
  };
}
