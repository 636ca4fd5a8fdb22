import { createHash } from 'node:crypto';
import type { Variant } from '../stores/experiment-store';

/**
 * The variant a subject (a user or session key) gets in an experiment: a hash of the two picks a
 * point in [0, 100), and the variants' weights divide that range in order. The same subject always
 * lands in the same variant, with no state kept; another experiment shuffles subjects afresh.
 */
export function assignVariant(experimentId: string, subject: string, variants: readonly Variant[]): Variant {
  const digest = createHash('sha256').update(`${experimentId}\u0000${subject}`).digest();
  const point = (digest.readUInt32BE(0) / 2 ** 32) * 100;
  let upTo = 0;
  for (const variant of variants) {
    upTo += variant.weight;
    if (point < upTo) return variant;
  }
  // Weights sum to 100; rounding can only leave the very top of the range.
  return variants.filter((v) => v.weight > 0).at(-1) as Variant;
}
