import { foldForDetection } from './unicode';

/**
 * Rule-based detection of text that tries to give the model instructions: overriding earlier
 * instructions, changing its role, extracting the prompt, or faking conversation markup. Read on
 * folded text, so spacing, look-alike letters, full-width forms and invisible characters do not
 * hide a phrase. A heuristic: it catches the common forms, not every paraphrase (see README).
 */
interface Rule {
  id: string;
  pattern: RegExp;
}

const RULES: Rule[] = [
  {
    id: 'override_instructions',
    pattern: /\b(?:ignore|disregard|forget|override|bypass|skip|drop)\b[^.!?\n]{0,40}\b(?:instructions?|rules?|prompts?|directions?|guidelines?|guardrails?|constraints?|context|system message)\b/,
  },
  { id: 'new_instructions', pattern: /\b(?:new|updated|real|actual|secret) (?:instructions?|system prompt|rules)\s*[:\-]/ },
  { id: 'role_change', pattern: /\b(?:you are now|from now on,? you|pretend (?:to be|you are)|act as (?:an? |the )?(?:unrestricted|unfiltered|jailbroken|evil|different)|roleplay as)\b/ },
  { id: 'jailbreak_persona', pattern: /\b(?:do anything now|dan mode|developer mode|jailbreak(?:ed)?|god mode)\b/ },
  {
    id: 'prompt_extraction',
    pattern: /\b(?:reveal|print|show|repeat|output|leak|tell me|what (?:is|are))\b[^.!?\n]{0,30}\b(?:system prompt|hidden prompt|initial prompt|your (?:instructions|prompt|rules)|the prompt above)\b/,
  },
  { id: 'chat_markup', pattern: /<\|?(?:im_start|im_end|system|endoftext)\|?>|\[\/?inst\]|^\s*#{2,}\s*(?:system|assistant|instruction)s?\b|\bsystem\s*:\s*you\b/m },
  { id: 'exfiltration', pattern: /\b(?:send|post|upload|exfiltrate)\b[^.!?\n]{0,40}\b(?:to|at) (?:https?:\/\/|www\.)/ },
  // Aimed at a grounded assistant: leave the documents, answer from what the model knows.
  {
    id: 'ungrounded_answer',
    pattern: /\b(?:ignore|disregard|forget)\b[^.!?\n]{0,20}\b(?:the|these|your|all) (?:sources|retrieved documents|provided documents)\b|\b(?:answer|reply|respond)\b[^.!?\n]{0,30}\b(?:from|using|with) your (?:own )?(?:knowledge|training|memory)\b/,
  },
  { id: 'answer_hijack', pattern: /\b(?:instead|only) (?:answer|reply|respond|say|output)\b[^.!?\n]{0,20}["'“]/ },
];

export interface InjectionFinding {
  detected: boolean;
  /** Ids of the rules that matched: recorded, never the text itself. */
  rules: string[];
}

export function detectPromptInjection(text: string): InjectionFinding {
  const folded = foldForDetection(text);
  const rules = RULES.filter((rule) => rule.pattern.test(folded)).map((rule) => rule.id);
  return { detected: rules.length > 0, rules };
}
