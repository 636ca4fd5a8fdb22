import stem from 'wink-porter2-stemmer';
import type { BlockKind } from '../ingest/pdf-layout';
import { tokenize } from '../text/sparse';
import { normaliseSpacing, splitSentences, type SentenceSpan } from './sentences';

/**
 * Evidence selection, pure: every sentence of every candidate chunk is scored by the question's
 * meaning (cosine of sentence embeddings, computed by the caller) and its words (how much of the
 * question's rarer vocabulary the sentence covers, stemmed), with headings, fragments and
 * navigation text demoted. The local reranker ranks chunks by their best sentence, and the
 * extractive answer quotes the best sentences, so both follow one scoring.
 */

export interface EvidenceChunk {
  /** The first stage's (hybrid retrieval's) score: how well the whole chunk matches. */
  score?: number;
  text: string;
  kind: BlockKind;
  headings: string[];
  documentId: string;
  version: number;
  chunkIndex: number;
}

export interface CandidateSentence extends SentenceSpan {
  /** Index of its chunk among the candidates. */
  chunk: number;
  /** A title or label rather than a statement. */
  heading: boolean;
  /** Starts mid-sentence: the chunk was cut before it began. */
  fragment: boolean;
}

export interface ScoredSentence extends CandidateSentence {
  dense: number;
  lexical: number;
  /** What ranks it: the blend of meaning and words, times its kind's weight. */
  score: number;
}

/** The scoring's parameters, measured on the eval set (`npm run eval`). */
export const EVIDENCE_WEIGHTS = {
  /** The blend of meaning and words. */
  dense: 0.55,
  lexical: 0.45,
  /** Navigation text and captions seldom answer a question; they lose to prose that does. */
  kind: { text: 1, caption: 0.8, references: 0.55, toc: 0.45, index: 0.4 } as Record<BlockKind, number>,
  heading: 0.6,
  fragment: 0.8,
  /**
   * A sentence under a heading (or a FAQ's question) that matches the question well shares in
   * that match: "(12) I deleted a lot of data ...?" makes the sentences that follow it the answer.
   */
  headingShare: 0.5,
  /** How far below its heading (in sentences) a sentence still shares in it. */
  headingReach: 3,
  /**
   * Weight of the chunk's hybrid score (relative to the best candidate's): a sentence is read in
   * its context, and the context's match (the whole chunk's words and meaning) counts too.
   */
  retrieval: 0.15,
  /**
   * Each name in the question (Excel, CUDA, PostgreSQL) that no candidate mentions multiplies every
   * score by this, twice at most: the documents likely do not cover what is asked about.
   */
  unmentioned: 0.8,
  /**
   * A candidate that stands out from the rest is likelier an answer than one among equals: each
   * chunk's relevance is lifted by this share of the best's lead over the median candidate.
   */
  standout: 0.3,
};

/**
 * Names in a question: acronyms, CamelCase, letters with digits (MP4), and capitalised words
 * after the first. A question written in Title Case names nothing this way.
 */
export function namedTerms(question: string): string[] {
  const words = question.split(/\s+/).filter((w) => /\p{L}/u.test(w));
  // Title Case: most longer words capitalised (acronyms aside).
  const longer = words.map((w) => w.replace(/[^\p{L}]/gu, '')).filter((w) => w.length >= 4 && w !== w.toUpperCase());
  if (longer.length > 0 && longer.filter((w) => /^\p{Lu}/u.test(w)).length > longer.length * 0.6) return [];
  const names = question.match(/(?<![\p{L}\d])(\p{Lu}\p{Ll}+\p{Lu}[\p{L}]*|\p{Lu}{2,}\d*|\p{Lu}\p{Ll}{2,}|\p{L}+\d+[\p{L}\d]*)(?![\p{L}\d])/gu) ?? [];
  const first = words[0]?.replace(/[^\p{L}\d]/gu, '');
  return [...new Set(names.filter((name, i) => !(i === 0 && name === first)))];
}

/** The question's names that none of the candidates (text, title or headings) mentions. */
export function unmentionedNames(question: string, chunks: (EvidenceChunk & { title?: string | null })[]): string[] {
  const text = chunks.map((c) => `${c.title ?? ''} ${c.headings.join(' ')} ${c.text}`.toLowerCase()).join(' ');
  return namedTerms(question).filter((name) => !text.includes(name.toLowerCase().replace(/s$/, '')));
}

/** Words that ask rather than say what is asked about. */
const QUESTION_WORDS = new Set(
  'how why where whom whose does do did can could should would may might must shall also any some there here much many get got want need able way possible'.split(' '),
);

export function candidateSentences(chunks: EvidenceChunk[]): CandidateSentence[] {
  return chunks.flatMap((chunk, index) => {
    const spans = splitSentences(chunk.text);
    const asking = questionBlocks(chunk.text, spans);
    return spans.map((span, position) => ({
      ...span,
      chunk: index,
      heading: asking.has(position) || isHeading(span.text),
      fragment: position === 0 && /^[\p{Ll},;:)\]]/u.test(span.text),
    }));
  });
}

/**
 * A short paragraph (a line of its own, at most three sentences) that ends in a question is a
 * FAQ's question, all of it: "(12) I deleted a lot of data but the file did not shrink. Is this a
 * bug?" restates the reader's problem, and its answer is the paragraph after it.
 */
function questionBlocks(text: string, spans: SentenceSpan[]): Set<number> {
  const asking = new Set<number>();
  let paragraph: number[] = [];
  const close = () => {
    const last = spans[paragraph.at(-1) ?? -1];
    const question = last && paragraph.length <= 3 && /\?["”)]?$/.test(last.text);
    // A line of its own without a sentence's end is a title: "(19) INSERT is really slow".
    const title = last && paragraph.length === 1 && !/[.!?:;"”)\]]$/.test(last.text) && last.text.split(/\s+/).length <= 20;
    if (question || title) for (const i of paragraph) asking.add(i);
    paragraph = [];
  };
  spans.forEach((span, i) => {
    const previous = spans[i - 1];
    if (previous && text.slice(previous.end, span.start).includes('\n')) close();
    paragraph.push(i);
  });
  close();
  return asking;
}

/** A title, a label, or a question (a FAQ's question announces its answer; it is not one). */
function isHeading(text: string): boolean {
  if (/^#{1,6}\s/.test(text) || /\?["”)]?$/.test(text)) return true;
  const words = text.split(/\s+/).length;
  // "Extra packages." states nothing.
  if (words < 4) return true;
  return words <= 10 && !/[.!?:;,)"”]$/.test(text) && !/\s(is|are|was|were|be|has|have|can|will|must|may)\s/i.test(text);
}

/** Stems of the words that carry meaning. */
export function contentStems(text: string): string[] {
  return tokenize(text)
    .filter((token) => !QUESTION_WORDS.has(token))
    .map((token) => (/^\p{L}+$/u.test(token) ? stem(token) : token));
}

/**
 * Scores each candidate sentence against the question. `dense[i]` is the cosine between the
 * question and sentence i (or undefined without an embedding model: words alone then decide).
 */
export function scoreSentences(question: string, sentences: CandidateSentence[], chunks: EvidenceChunk[], dense: (number | undefined)[]): ScoredSentence[] {
  const terms = [...new Set(contentStems(question))];
  const stemsOf = sentences.map((s) => new Set(contentStems(s.text)));
  const headingStems = chunks.map((chunk) => new Set(contentStems(chunk.headings.at(-1) ?? '')));
  // Rarer words weigh more (IDF over the candidates); a word no candidate has weighs most.
  const weight = new Map(terms.map((term) => [term, Math.log(1 + (sentences.length + 1) / (stemsOf.filter((s) => s.has(term)).length + 0.5))]));
  const total = [...weight.values()].reduce((sum, w) => sum + w, 0);
  const blendedScores = sentences.map((sentence, i) => {
    let covered = 0;
    for (const term of terms) {
      const w = weight.get(term) as number;
      if ((stemsOf[i] as Set<string>).has(term)) covered += w;
      else if ((headingStems[sentence.chunk] as Set<string>).has(term)) covered += w / 2;
    }
    const lexical = total > 0 ? covered / total : 0;
    const meaning = dense[i];
    const blended = meaning === undefined ? lexical : EVIDENCE_WEIGHTS.dense * meaning + EVIDENCE_WEIGHTS.lexical * lexical;
    return { ...sentence, dense: meaning ?? 0, lexical, blended };
  });
  const topScore = Math.max(0, ...chunks.map((chunk) => chunk.score ?? 0));
  const uncovered = EVIDENCE_WEIGHTS.unmentioned ** Math.min(2, unmentionedNames(question, chunks).length);
  const prior = (chunk: EvidenceChunk) => (topScore > 0 ? (chunk.score ?? 0) / topScore : 0);
  return blendedScores.map((sentence, i) => {
    // The nearest heading above it in its chunk, if close enough and a better match than itself.
    let context = 0;
    for (let j = i - 1; j >= 0 && j >= i - EVIDENCE_WEIGHTS.headingReach; j--) {
      const above = blendedScores[j] as (typeof blendedScores)[number];
      if (above.chunk !== sentence.chunk) break;
      if (above.heading) {
        context = above.blended;
        break;
      }
    }
    const shared = sentence.heading ? sentence.blended : sentence.blended + EVIDENCE_WEIGHTS.headingShare * Math.max(0, context - sentence.blended);
    const kind = (chunks[sentence.chunk] as EvidenceChunk).kind ?? 'text';
    const factor = EVIDENCE_WEIGHTS.kind[kind] * (sentence.heading ? EVIDENCE_WEIGHTS.heading : 1) * (sentence.fragment ? EVIDENCE_WEIGHTS.fragment : 1);
    const { blended: _blended, ...rest } = sentence;
    return { ...rest, score: (shared + EVIDENCE_WEIGHTS.retrieval * prior(chunks[sentence.chunk] as EvidenceChunk)) * factor * uncovered };
  });
}

/**
 * A chunk's relevance: its best sentence (a precise passage is not averaged away by the rest),
 * lifted by how far the best candidate stands out from the median one (the same lift for all, so
 * the order stays; what it changes is how the best compares to the floor).
 */
export function chunkRelevance(scored: ScoredSentence[], chunkCount: number): number[] {
  const best = new Array<number>(chunkCount).fill(0);
  for (const sentence of scored) best[sentence.chunk] = Math.max(best[sentence.chunk] as number, sentence.score);
  const sorted = [...best].sort((a, b) => b - a);
  const lift = EVIDENCE_WEIGHTS.standout * ((sorted[0] ?? 0) - (sorted[Math.floor(sorted.length / 2)] ?? 0));
  return best.map((score) => score + lift);
}

/**
 * One sentence per statement: overlapping chunks of one document repeat sentences, and a chunk cut
 * mid-sentence holds the tail of a sentence another chunk has whole. The best-scored copy stays.
 */
export function distinctSentences(scored: ScoredSentence[], chunks: EvidenceChunk[]): ScoredSentence[] {
  const ordered = [...scored].sort((a, b) => b.score - a.score || a.chunk - b.chunk || a.start - b.start);
  const kept: { sentence: ScoredSentence; key: string; words: string; doc: string }[] = [];
  for (const sentence of ordered) {
    const chunk = chunks[sentence.chunk] as EvidenceChunk;
    const doc = `${chunk.documentId}@${chunk.version}`;
    const key = normaliseSpacing(sentence.text);
    // A manual that repeats a sentence with a word inflected ("plot windows" / "plots windows") repeats it all the same.
    const words = [...new Set(contentStems(sentence.text))].sort().join(' ');
    const duplicate = kept.some(
      (other) => other.key === key || (other.doc === doc && key.length >= 20 && (other.key.includes(key) || key.includes(other.key) || (words.length > 0 && other.words === words))),
    );
    if (!duplicate) kept.push({ sentence, key, words, doc });
  }
  return kept.map((k) => k.sentence);
}

const NEEDS_PREVIOUS = /^(this|that|these|those|it|its|they|their|such|however|therefore|thus|also|but|otherwise|instead|then|hence|so|here|in (this|that|such|either|both) cases?|for (example|instance)|as a result|in addition|note that)\b/i;

export interface EvidencePassage {
  chunk: number;
  start: number;
  end: number;
}

/**
 * The answer's passages: the best sentence, a second one nearly as good, each with the sentence
 * before it where it leans on it ("This ...", "However, ...") or the one after it where it
 * announces it (":"); contiguous sentences of a chunk merge into one passage, in reading order.
 */
export function selectPassages(distinct: ScoredSentence[], all: ScoredSentence[], chunks: EvidenceChunk[], options: { maxPrimary: number; closeness: number }): EvidencePassage[] {
  const [best] = distinct;
  if (!best) return [];
  const primary = [best, ...distinct.slice(1).filter((s) => !s.heading && s.score >= best.score * options.closeness)].slice(0, options.maxPrimary);
  const inChunk = (chunk: number) => all.filter((s) => s.chunk === chunk).sort((a, b) => a.start - b.start);
  const picked = new Map<string, CandidateSentence>();
  // A neighbour may be a sentence already quoted from an overlapping chunk: it is quoted once.
  const quoted = new Set<string>();
  const add = (s: CandidateSentence) => {
    const key = normaliseSpacing(s.text);
    if (quoted.has(key)) return;
    quoted.add(key);
    picked.set(`${s.chunk}:${s.start}`, s);
  };
  for (const sentence of primary) {
    const siblings = inChunk(sentence.chunk);
    const at = siblings.findIndex((s) => s.start === sentence.start);
    const previous = siblings[at - 1];
    const next = siblings[at + 1];
    if (previous && !previous.heading && (NEEDS_PREVIOUS.test(sentence.text) || sentence.text.length < 50)) add(previous);
    add(sentence);
    if (next && /:$/.test(sentence.text)) add(next);
  }
  const order = (s: CandidateSentence) => {
    const chunk = chunks[s.chunk] as EvidenceChunk;
    return [chunk.documentId, chunk.version, chunk.chunkIndex, s.start] as const;
  };
  const sorted = [...picked.values()].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1] || x[2] - y[2] || x[3] - y[3];
  });
  const passages: EvidencePassage[] = [];
  for (const sentence of sorted) {
    const last = passages.at(-1);
    const between = last && last.chunk === sentence.chunk ? (chunks[sentence.chunk] as EvidenceChunk).text.slice(last.end, sentence.start) : undefined;
    if (last && between !== undefined && /^\s*$/.test(between)) last.end = sentence.end;
    else if (!passages.some((p) => p.chunk === sentence.chunk && p.start <= sentence.start && p.end >= sentence.end)) passages.push({ chunk: sentence.chunk, start: sentence.start, end: sentence.end });
  }
  return passages;
}
