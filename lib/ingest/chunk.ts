import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import type { Heading, ParsedDocument } from './parse';
import type { ChunkingSettings } from './types';

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
}

/** A new collection's chunking: the configured size, never beyond what the model reads. */
export function defaultChunking(config: { CHUNK_SIZE_TOKENS: number; CHUNK_OVERLAP_TOKENS: number }, maxInputTokens: number): ChunkingSettings {
  return { chunkSizeTokens: Math.min(config.CHUNK_SIZE_TOKENS, maxInputTokens), chunkOverlapTokens: config.CHUNK_OVERLAP_TOKENS };
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
  const options = { chunkSize: settings.chunkSizeTokens, chunkOverlap: settings.chunkOverlapTokens, lengthFunction };
  const splitter = structured ? RecursiveCharacterTextSplitter.fromLanguage('markdown', options) : new RecursiveCharacterTextSplitter(options);
  const pieces = (await splitter.splitText(parsed.text)).filter((piece) => piece.trim().length > 0);

  const chunks: Chunk[] = [];
  const headingPath = headingPathAt(parsed.headings);
  let searchFrom = 0;
  for (const piece of pieces) {
    // The splitter returns trimmed substrings of the text; find each after the previous start.
    const found = parsed.text.indexOf(piece, searchFrom);
    const charStart = found >= 0 ? found : searchFrom;
    const charEnd = charStart + piece.length;
    searchFrom = charStart + 1;
    chunks.push({
      index: chunks.length,
      text: piece,
      tokenCount: lengthFunction(piece),
      pageStart: pageAt(parsed.pageOffsets, charStart),
      pageEnd: pageAt(parsed.pageOffsets, Math.max(charStart, charEnd - 1)),
      headings: headingPath(charStart),
      charStart,
      charEnd,
    });
  }
  return chunks;
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
