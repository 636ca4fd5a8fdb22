import { distinctSentences, selectPassages } from './evidence';
import type { EvidenceScores } from './evidence-scorer';
import { displayText } from './sentences';
import { NOT_FOUND_ANSWER, type Citation, type GroundedAnswer, type RankedChunk } from './types';

/** Sentences quoted as the answer's core; each may bring a neighbour it leans on. */
const MAX_PRIMARY = 3;
/** A second sentence joins the best one only when it scores nearly as well. */
const CLOSENESS = 0.8;

/**
 * The no-LLM answerer and the last fallback: quotes the best evidence (lib/answer/evidence.ts),
 * whole sentences in reading order, each passage citing its chunk. Cannot invent anything; "not
 * found" when no candidate survived the relevance floor.
 */
export function extractiveAnswer(chunks: RankedChunk[], scores: EvidenceScores): GroundedAnswer & { passages: string[] } {
  if (chunks.length === 0) return { found: false, answer: NOT_FOUND_ANSWER, citations: [], passages: [] };
  const usable = scores.sentences.filter((s) => s.score > 0);
  const passages = selectPassages(distinctSentences(usable, chunks), scores.sentences, chunks, { maxPrimary: MAX_PRIMARY, closeness: CLOSENESS });
  if (passages.length === 0) return { found: false, answer: NOT_FOUND_ANSWER, citations: [], passages: [] };
  const citations: Citation[] = passages.map((passage) => {
    const chunk = chunks[passage.chunk] as RankedChunk;
    return { ...citationOf(chunk), quote: displayText(chunk.text.slice(passage.start, passage.end)) };
  });
  const texts = citations.map((citation, i) => `${citation.quote} [${i + 1}]`);
  return { found: true, answer: texts.join(' '), citations, passages: texts };
}

function citationOf(chunk: RankedChunk): Omit<Citation, 'quote'> {
  return { documentId: chunk.documentId, version: chunk.version, chunkId: chunk.chunkId, page: chunk.pageStart, score: chunk.relevance };
}

