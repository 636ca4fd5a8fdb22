import { normalise } from './model-answer';

/**
 * A model may quote correctly and still add what its quotes do not say. Numbers and proper names
 * are where that does harm ("30 days", "Ulaanbaatar"), and they are checkable: each must occur in
 * the answer's quotes, numbers also when the quote spells them out ("thirty days").
 */
export function unsupportedTerms(answer: string, quotes: string[]): string[] {
  const quoted = normalise(quotes.join(' '));
  const quotedNumbers = new Set([...numbersIn(quoted)]);
  const missing: string[] = [];
  for (const number of new Set(numbersIn(normalise(answer)))) if (!quotedNumbers.has(number)) missing.push(number);
  for (const name of new Set(properNames(answer))) if (!quoted.includes(name.toLowerCase())) missing.push(name);
  return missing;
}

/**
 * Capitalised words that do not start a sentence, and acronyms and CamelCase anywhere; in a short
 * factoid ("Ulaanbaatar, in 1639."), the first word too, since there the name is the answer.
 */
function properNames(text: string): string[] {
  const names: string[] = [];
  for (const sentence of text.split(/(?<=[.!?:;])\s+|\n+/)) {
    const words = sentence.split(/\s+/).map((w) => w.replace(/^[^\p{L}\d]+|[^\p{L}\d]+$/gu, '')).filter(Boolean);
    const factoid = words.length <= 4 && !COMMON_OPENERS.has(words[0]?.toLowerCase() ?? '');
    words.forEach((word, i) => {
      const acronym = /^\p{Lu}{2,}\d*$/u.test(word) || /^\p{Lu}?\p{Ll}+\p{Lu}/u.test(word);
      if (acronym || ((i > 0 || factoid) && /^\p{Lu}\p{Ll}+/u.test(word))) names.push(word);
    });
  }
  return names;
}

/** Words that open ordinary sentences, not names. */
const COMMON_OPENERS = new Set(
  'the a an it its this that these those there they you we yes no not only always never every each all some any use set call run add see in on at by for with from to of and or if when after before within about'.split(' '),
);

const UNITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** Numbers as digit strings without separators, from digits ("1,048,576", "2.5") and from words up to "ninety-nine hundred". */
function* numbersIn(text: string): Generator<string> {
  for (const match of text.matchAll(/\d+(?:[.,]\d+)*/g)) yield match[0].replace(/,(?=\d{3}\b)/g, '');
  const words = text.split(/[^a-z]+/);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const unit = UNITS.indexOf(word);
    const ten = TENS.indexOf(word);
    if (unit >= 0) yield String(unit);
    if (ten >= 2) {
      const next = UNITS.indexOf(words[i + 1] ?? '');
      yield String(ten * 10 + (next > 0 && next < 10 ? next : 0));
      if (next > 0 && next < 10) i++;
    }
    if (word === 'hundred') yield '100';
  }
}
