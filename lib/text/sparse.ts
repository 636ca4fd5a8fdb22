/**
 * BM25 sparse vectors computed by the platform, so Qdrant and the embedded index score alike:
 * one tokenizer, hashed term ids, term-frequency saturation at index time, IDF at query time
 * (Qdrant's `idf` modifier; the embedded index applies the same formula).
 * Changing anything here changes every stored sparse vector: it requires a re-index.
 */

export interface SparseVector {
  indices: number[];
  values: number[];
}

export const BM25 = { k1: 1.2, b: 0.75, avgDocLength: 150 } as const;

const STOPWORDS = new Set(
  ('a an and are as at be but by for from has have he her his i if in into is it its me my no not of on or our she so ' +
    'than that the their them then there these they this to was we were what when which who will with you your').split(' '),
);

export function tokenize(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token.length > 0 && token.length <= 40 && !STOPWORDS.has(token));
}

/** FNV-1a, 32 bit: stable across processes and releases, unlike a vocabulary that grows. */
export function termId(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    hash ^= token.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function termFrequencies(tokens: string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const token of tokens) {
    const id = termId(token);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function toSparse(weights: Map<number, number>): SparseVector {
  const indices = [...weights.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => weights.get(i) as number) };
}

/** Index-time weights: BM25's saturated term frequency, length-normalised. */
export function encodeDocument(text: string): SparseVector {
  const tokens = tokenize(text);
  const lengthNorm = 1 - BM25.b + (BM25.b * tokens.length) / BM25.avgDocLength;
  const weights = new Map<number, number>();
  for (const [id, tf] of termFrequencies(tokens)) weights.set(id, (tf * (BM25.k1 + 1)) / (tf + BM25.k1 * lengthNorm));
  return toSparse(weights);
}

/** Query-time: each distinct term once; the index multiplies in the IDF. */
export function encodeQuery(text: string): SparseVector {
  const weights = new Map<number, number>();
  for (const id of termFrequencies(tokenize(text)).keys()) weights.set(id, 1);
  return toSparse(weights);
}

/** The IDF Qdrant applies with the `idf` modifier: ln((N - n + 0.5) / (n + 0.5) + 1). */
export function inverseDocumentFrequency(totalPoints: number, pointsWithTerm: number): number {
  return Math.log((totalPoints - pointsWithTerm + 0.5) / (pointsWithTerm + 0.5) + 1);
}
