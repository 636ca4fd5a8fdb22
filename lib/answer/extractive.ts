import { tokenize } from '../text/sparse';
import { NOT_FOUND_ANSWER, type Citation, type GroundedAnswer, type RankedChunk } from './types';

const MAX_SENTENCES = 2;
const MAX_QUOTE_CHARS = 400;

/**
 * The no-LLM answerer and the last fallback: picks the sentences of the top chunks that share the
 * most (rarer) words with the question and returns them verbatim, each citing its chunk. Cannot
 * invent anything; says "not found" when no sentence shares a word with the question.
 */
export function extractiveAnswer(question: string, chunks: RankedChunk[]): GroundedAnswer {
  const terms = new Set(tokenize(question));
  const sentences = chunks.flatMap((chunk) => splitSentences(chunk.text).map((text) => ({ chunk, text, tokens: new Set(tokenize(text)) })));
  // Rarer question words among the candidates weigh more, as in BM25's IDF; computed once per word.
  const weights = [...terms].map((term) => ({ term, weight: Math.log(1 + sentences.length / (1 + sentences.filter((s) => s.tokens.has(term)).length)) }));
  const scored = sentences
    .map((sentence, position) => ({ ...sentence, position, score: weights.reduce((sum, { term, weight }) => sum + (sentence.tokens.has(term) ? weight : 0), 0) }))
    .filter((sentence) => sentence.score > 0)
    .sort((a, b) => b.score - a.score || a.position - b.position);
  const [best] = scored;
  if (!best) return { found: false, answer: NOT_FOUND_ANSWER, citations: [] };

  const picked = scored.filter((sentence) => sentence.score >= best.score * 0.6).slice(0, MAX_SENTENCES).sort((a, b) => a.position - b.position);
  const citations: Citation[] = picked.map(({ chunk, text }) => ({
    documentId: chunk.documentId,
    version: chunk.version,
    chunkId: chunk.chunkId,
    page: chunk.pageStart,
    quote: text,
    score: chunk.relevance,
  }));
  return { found: true, answer: picked.map((sentence, i) => `${sentence.text} [${i + 1}]`).join(' '), citations };
}

/** Sentences as exact substrings of the text (so quotes stay verbatim), long ones cut at a word. */
export function splitSentences(text: string): string[] {
  const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
  return [...segmenter.segment(text)]
    .map(({ segment }) => segment.trim())
    .filter((segment) => segment.length >= 12)
    .map((segment) => (segment.length <= MAX_QUOTE_CHARS ? segment : segment.slice(0, segment.lastIndexOf(' ', MAX_QUOTE_CHARS))));
}
