/** A labeled question of the repo's eval set, as `scripts/eval/questions/*.json` hold it. */
export interface LabeledQuestion {
  question: string;
  answerable: boolean;
  document?: string;
  evidence?: string;
  /** Other places that state the same answer, where the corpus repeats itself. */
  also?: { document: string; evidence: string }[];
}

/** Every labeled place that answers the question (none: unanswerable). */
export function evidenceOf(labeled: LabeledQuestion): { document: string; evidence: string }[] {
  if (!labeled.answerable) return [];
  return [{ document: labeled.document as string, evidence: labeled.evidence as string }, ...(labeled.also ?? [])];
}
