/**
 * The first `limit` hits in ranked order, taking at most `perDocument` from any one document while
 * others have hits to offer; the slots left are filled in ranked order. One large document (a
 * reference manual among FAQs) then cannot take every slot the reranker sees.
 */
export function diversify<T extends { documentId: string }>(ranked: T[], limit: number, perDocument: number): T[] {
  const taken: T[] = [];
  const skipped: T[] = [];
  const counts = new Map<string, number>();
  for (const hit of ranked) {
    if (taken.length === limit) break;
    const count = counts.get(hit.documentId) ?? 0;
    if (count >= perDocument) {
      skipped.push(hit);
      continue;
    }
    counts.set(hit.documentId, count + 1);
    taken.push(hit);
  }
  for (const hit of skipped) {
    if (taken.length === limit) break;
    taken.push(hit);
  }
  return taken;
}
