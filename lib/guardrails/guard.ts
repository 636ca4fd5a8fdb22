import type { GuardrailSettings } from '../gateway/tenant-settings';
import { maskPii } from './pii';
import { detectPromptInjection } from './prompt-injection';
import { cleanText } from './unicode';

/** One guardrail's verdict on one request: recorded in the audit log, never with the text it judged. */
export interface GuardDecision {
  stage: 'input' | 'retrieval' | 'output';
  check: 'unicode' | 'prompt_injection' | 'pii' | 'retrieved_instructions' | 'answer_validation' | 'answer_cache';
  outcome: 'pass' | 'clean' | 'flag' | 'block' | 'mask' | 'drop' | 'off';
  details?: Record<string, unknown>;
}

export interface GuardedQuestion {
  /** What the pipeline, the model, the workflow history and the logs see. */
  question: string;
  blocked: boolean;
  decisions: GuardDecision[];
}

/** Input guard: hidden characters out, injection judged on what the text really says, personal data masked. */
export function guardQuestion(question: string, settings: GuardrailSettings): GuardedQuestion {
  const decisions: GuardDecision[] = [];
  const cleaned = cleanText(question);
  decisions.push({ stage: 'input', check: 'unicode', outcome: cleaned.removed > 0 ? 'clean' : 'pass', ...(cleaned.removed > 0 && { details: { removedCharacters: cleaned.removed } }) });

  let blocked = false;
  if (settings.promptInjection === 'off') {
    decisions.push({ stage: 'input', check: 'prompt_injection', outcome: 'off' });
  } else {
    // The original text: hidden tag characters are part of what a model might read.
    const finding = detectPromptInjection(question);
    blocked = finding.detected && settings.promptInjection === 'block';
    decisions.push({ stage: 'input', check: 'prompt_injection', outcome: finding.detected ? settings.promptInjection : 'pass', ...(finding.detected && { details: { rules: finding.rules } }) });
  }

  let text = cleaned.text;
  if (settings.pii.question === 'off') {
    decisions.push({ stage: 'input', check: 'pii', outcome: 'off' });
  } else {
    const masked = maskPii(text, settings.pii.entities);
    text = masked.text;
    decisions.push(piiDecision('input', masked.counts));
  }
  return { question: text, blocked, decisions };
}

/** Retrieved chunks that carry instructions: they stay data (the prompt says so) or are kept from the model. */
export function screenRetrieved<T extends { chunkId: string; text: string }>(chunks: T[], policy: GuardrailSettings['retrievedInstructions']): { kept: T[]; flagged: { chunkId: string; rules: string[] }[] } {
  const flagged: { chunkId: string; rules: string[] }[] = [];
  const kept = chunks.filter((chunk) => {
    const finding = detectPromptInjection(chunk.text);
    if (finding.detected) flagged.push({ chunkId: chunk.chunkId, rules: finding.rules });
    return !(finding.detected && policy === 'drop');
  });
  return { kept, flagged };
}

export function retrievalDecision(flagged: { chunkId: string; rules: string[] }[], policy: GuardrailSettings['retrievedInstructions']): GuardDecision {
  if (flagged.length === 0) return { stage: 'retrieval', check: 'retrieved_instructions', outcome: 'pass' };
  return { stage: 'retrieval', check: 'retrieved_instructions', outcome: policy, details: { chunks: flagged } };
}

/** Output guard: personal data masked in the answer and in the quotes of its citations. */
export function guardAnswer<A extends { answer: string; citations: { quote: string }[] }>(answer: A, settings: GuardrailSettings): { answer: A; decision: GuardDecision } {
  if (settings.pii.answer === 'off') return { answer, decision: { stage: 'output', check: 'pii', outcome: 'off' } };
  const counts: Record<string, number> = {};
  const mask = (text: string) => {
    const masked = maskPii(text, settings.pii.entities);
    for (const [entity, n] of Object.entries(masked.counts)) counts[entity] = (counts[entity] ?? 0) + n;
    return masked.text;
  };
  const guarded = { ...answer, answer: mask(answer.answer), citations: answer.citations.map((c) => ({ ...c, quote: mask(c.quote) })) };
  return { answer: guarded, decision: piiDecision('output', counts) };
}

function piiDecision(stage: 'input' | 'output', counts: Record<string, number>): GuardDecision {
  const masked = Object.values(counts).some((n) => n > 0);
  return { stage, check: 'pii', outcome: masked ? 'mask' : 'pass', ...(masked && { details: { masked: counts } }) };
}
