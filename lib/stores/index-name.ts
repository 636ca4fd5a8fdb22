import type { CollectionRecord } from './metadata-store';

/** Physical index of a collection generation: `{tenant}__{collection}__g{n}` (re-indexing adds generations). */
export function indexNameOf(collection: Pick<CollectionRecord, 'tenantId' | 'name' | 'generation'>): string {
  return `${collection.tenantId}__${collection.name}__g${collection.generation}`;
}
