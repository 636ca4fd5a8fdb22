/**
 * Roughly four characters per token: good enough to route by context window and to reserve a
 * budget up front, never for billing (model calls report what they really used).
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
