import { z } from 'zod';
import { unsupportedTerms } from './grounding';
import type { RankedChunk } from './types';

/** What a model must reply: the shape given to grammars and JSON modes, and checked with zod. */
export const modelAnswerSchema = z.object({
  found: z.boolean(),
  citations: z.array(z.object({ source: z.number().int(), quote: z.string() })).max(8),
  answer: z.string().max(4000),
});
export type ModelAnswer = z.infer<typeof modelAnswerSchema>;

/** The same shape as JSON schema, property order kept: quotes come before the answer they support. */
export const MODEL_ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    found: { type: 'boolean' },
    citations: {
      type: 'array',
      maxItems: 3,
      items: { type: 'object', properties: { source: { type: 'integer' }, quote: { type: 'string', maxLength: 300 } }, required: ['source', 'quote'] },
    },
    answer: { type: 'string', maxLength: 600 },
  },
  required: ['found', 'citations', 'answer'],
} as const;

/** A quote shorter than this proves nothing ("the", "a fee"). */
const MIN_QUOTE_CHARS = 12;

export type Validation = { ok: true; answer: ModelAnswer } | { ok: false; issues: string[] };

/**
 * Accepts a reply only if it is the JSON shape above and every citation names a source that was
 * shown and quotes text that really occurs in it (compared without case and whitespace
 * differences). `found: false` is always acceptable: saying "not in the documents" is never an
 * uncited claim.
 */
export function validateModelAnswer(reply: string, sources: Pick<RankedChunk, 'text'>[]): Validation {
  const json = extractJsonObject(reply);
  if (json === undefined) return { ok: false, issues: ['the reply is not a JSON object'] };
  const parsed = modelAnswerSchema.safeParse(json);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'reply'}: ${issue.message}`) };
  const answer = parsed.data;
  if (!answer.found) return { ok: true, answer: { found: false, citations: [], answer: '' } };

  const issues: string[] = [];
  if (answer.answer.trim() === '') issues.push('answer is empty');
  if (answer.citations.length === 0) issues.push('found is true but there are no citations');
  answer.citations.forEach((citation, i) => {
    const source = sources[citation.source - 1];
    if (!source) issues.push(`citations.${i}: there is no source ${citation.source}; sources are 1 to ${sources.length}`);
    else if (normalise(citation.quote).length < MIN_QUOTE_CHARS) issues.push(`citations.${i}: the quote is too short to check`);
    else if (!normalise(source.text).includes(normalise(citation.quote))) issues.push(`citations.${i}: the quote does not occur in source ${citation.source}`);
  });
  const unsupported = unsupportedTerms(answer.answer, answer.citations.map((c) => c.quote));
  if (unsupported.length > 0) issues.push(`answer: ${unsupported.join(', ')} ${unsupported.length === 1 ? 'does' : 'do'} not occur in the quotes; say only what they say`);
  return issues.length === 0 ? { ok: true, answer } : { ok: false, issues };
}

/** Models wrap JSON in code fences or prose; the outermost braces are the candidate. */
function extractJsonObject(reply: string): unknown {
  const start = reply.indexOf('{');
  const end = reply.lastIndexOf('}');
  if (start === -1 || end <= start) return undefined;
  try {
    return JSON.parse(reply.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}
