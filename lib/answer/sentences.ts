/** Sentences as exact spans of a chunk's text, so every quote taken from them is verbatim. */

export interface SentenceSpan {
  start: number;
  end: number;
  text: string;
}

/** Longest quote: a longer sentence is cut at a word, still a substring. */
export const MAX_SENTENCE_CHARS = 400;
/** Shorter pieces ("Yes.", "Default:") say nothing on their own. */
const MIN_SENTENCE_CHARS = 12;

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Every sentence of the text, in order, with its offsets. Line breaks end sentences (lists, code,
 * contents lines): parsing has already joined the lines of a paragraph.
 */
export function splitSentences(text: string): SentenceSpan[] {
  const spans: SentenceSpan[] = [];
  for (const { segment, index } of mergedSegments(text)) {
    const lead = segment.length - segment.trimStart().length;
    let body = segment.trim();
    if (body.length < MIN_SENTENCE_CHARS) continue;
    if (body.length > MAX_SENTENCE_CHARS) body = body.slice(0, Math.max(body.lastIndexOf(' ', MAX_SENTENCE_CHARS), MIN_SENTENCE_CHARS));
    spans.push({ start: index + lead, end: index + lead + body.length, text: body });
  }
  return spans;
}

/**
 * The segmenter's sentences, with false breaks mended: a "sentence" that starts with a lower-case
 * letter or with punctuation continues the one before (abbreviations such as "e.g.", file names
 * and links like "./Hooks.md#hooks"), unless a line break separates them.
 */
function mergedSegments(text: string): { segment: string; index: number }[] {
  const merged: { segment: string; index: number }[] = [];
  for (const { segment, index } of segmenter.segment(text)) {
    const previous = merged.at(-1);
    const continues = previous && !/\n\s*$/.test(previous.segment) && /^[\p{Ll}/#)\],;:.]/u.test(segment);
    if (continues) previous.segment += segment;
    else merged.push({ segment, index });
  }
  return merged;
}

/** Lower case, one space: how quotes and duplicates are compared. */
export function normaliseSpacing(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** What a quote shows: the sentence with its line breaks and runs of spaces as single spaces. */
export function displayText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
