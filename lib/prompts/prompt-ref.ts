/** The label answers use unless a request or an experiment says otherwise. */
export const DEFAULT_LABEL = 'production';
/** The prompt answers are generated with. */
export const ANSWER_PROMPT = 'grounded-answer';

/** Which prompt version an answer uses, and the label it was chosen by (workflow input: no Node APIs here). */
export interface PromptRef {
  name: string;
  version: number;
  label: string;
}
