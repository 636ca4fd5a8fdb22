import type { CollectionRecord } from './metadata-store';

/** Physical index of a collection generation: `{tenant}__{collection}__g{n}` (re-indexing adds generations). */
export function indexNameOf(collection: Pick<CollectionRecord, 'tenantId' | 'name' | 'generation'>): string {
  return `${collection.tenantId}__${collection.name}__g${collection.generation}`;
}

/** The alias queries read: it always points at the collection's live generation. */
export function aliasNameOf(collection: Pick<CollectionRecord, 'tenantId' | 'name'>): string {
  return `${collection.tenantId}__${collection.name}`;
}

export function generationOfIndex(indexName: string): number {
  const match = /__g(\d+)$/.exec(indexName);
  if (!match) throw new Error(`${indexName} is not a generation's index`);
  return Number(match[1]);
}
