/**
 * Ranking metrics with binary relevance, averaged over questions. `ranked` is one question's
 * result ids, best first; `relevant` the ids labeled relevant for it.
 */
export interface RankingMetrics {
  recallAt5: number;
  recallAt10: number;
  mrr: number;
  ndcgAt10: number;
}

export function recallAt(k: number, ranked: string[], relevant: Set<string>): number {
  if (relevant.size === 0) return 0;
  return ranked.slice(0, k).filter((id) => relevant.has(id)).length / relevant.size;
}

export function reciprocalRank(ranked: string[], relevant: Set<string>): number {
  const position = ranked.findIndex((id) => relevant.has(id));
  return position === -1 ? 0 : 1 / (position + 1);
}

export function ndcgAt(k: number, ranked: string[], relevant: Set<string>): number {
  const dcg = ranked.slice(0, k).reduce((sum, id, i) => sum + (relevant.has(id) ? 1 / Math.log2(i + 2) : 0), 0);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

export function averageMetrics(results: { ranked: string[]; relevant: Set<string> }[]): RankingMetrics {
  const mean = (f: (r: { ranked: string[]; relevant: Set<string> }) => number) => results.reduce((sum, r) => sum + f(r), 0) / Math.max(1, results.length);
  return {
    recallAt5: mean((r) => recallAt(5, r.ranked, r.relevant)),
    recallAt10: mean((r) => recallAt(10, r.ranked, r.relevant)),
    mrr: mean((r) => reciprocalRank(r.ranked, r.relevant)),
    ndcgAt10: mean((r) => ndcgAt(10, r.ranked, r.relevant)),
  };
}
