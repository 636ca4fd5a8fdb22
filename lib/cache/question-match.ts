import stem from 'wink-porter2-stemmer';

/**
 * Whether a cached question's answer may serve a new one. Embeddings alone cannot tell: "Does the
 * warranty cover water damage?" and "Does the warranty not cover water damage?" are 0.99 alike
 * with MiniLM, "maximum" and "minimum upload size" 0.94. So besides the similarity threshold, the
 * two must ask about the same things: the same content words (stemmed, in any order and phrasing),
 * the same negation, the same specific question word (where, when, who, why, how many/much/long/often).
 * Precision over recall: a wrong hit serves a wrong answer, a missed one costs a model call.
 */
export function sameQuestion(a: string, b: string): boolean {
  const x = questionShape(a);
  const y = questionShape(b);
  return x.negated === y.negated && x.asks === y.asks && x.content === y.content;
}

/** How a question is keyed exactly: Unicode-normalised, lower case, spacing and end punctuation ignored. */
export function normaliseQuestion(question: string): string {
  return question.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').replace(/[\s?!.。？！]+$/u, '').trim();
}

interface QuestionShape {
  content: string;
  negated: boolean;
  asks: string;
}

/** Words that phrase a question without changing what it asks about. */
const PHRASING = new Set(
  ('a an the of to in on for with by under at from about into over as and or is are was were be been being am do does did done ' +
    'i me my we us our you your it its this that these those there here can could would will shall please tell explain ' +
    'way ways step steps procedure process possible purpose any some what which how').split(' '),
);
const NEGATIONS = new Set(['not', 'no', 'never', 'without', 'cannot', 'nor', 'none', 'neither']);
const SPECIFIC_ASKS = ['where', 'when', 'who', 'whom', 'whose', 'why', 'how many', 'how much', 'how long', 'how often', 'how far', 'how old'];
/** The words of those asks but "how": they are the ask, not what it is about. */
const ASK_WORDS = new Set(SPECIFIC_ASKS.flatMap((ask) => ask.split(' ')).filter((word) => word !== 'how'));

function questionShape(question: string): QuestionShape {
  const text = normaliseQuestion(question).replace(/n't\b/g, ' not');
  const words = text.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const asks = SPECIFIC_ASKS.filter((ask) => new RegExp(`\\b${ask}\\b`).test(text))
    .map((ask) => (ask === 'whom' || ask === 'whose' ? 'who' : ask))
    .sort()
    .join('|');
  const negated = words.filter((word) => NEGATIONS.has(word)).length % 2 === 1;
  const content = [...new Set(words.filter((word) => !PHRASING.has(word) && !NEGATIONS.has(word) && !ASK_WORDS.has(word)).map((word) => stem(word)))].sort().join(' ');
  return { content, negated, asks };
}
