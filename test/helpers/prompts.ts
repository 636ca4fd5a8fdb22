import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANSWER_PROMPT } from '../../lib/prompts/prompt-ref';
import { PROMPTS_DIR } from '../../lib/prompts/prompt-registry';

/** The shipped answer prompt, as the repo's file seeds it. */
export const shippedPrompt = (): string => readFileSync(join(PROMPTS_DIR, ANSWER_PROMPT, 'v1.md'), 'utf8');

/** Another version of it, as an operator would write one: a line of its own ahead of the instructions. */
export const shippedPromptWith = (preamble: string): string => shippedPrompt().replace('You answer questions', `${preamble} You answer questions`);
