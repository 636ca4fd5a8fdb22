/**
 * Where a generation's points live. New generations share one space per embedding model (its
 * name carries model and dimension); generations made before that each had an index of their own,
 * `{tenant}__{collection}__g{n}`, read as they are until a re-index moves the collection.
 */
export function spaceNameOf(embeddingModel: string, dimensions: number): string {
  const model = embeddingModel.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `chunks_${model}_${dimensions}`;
}

export function legacyIndexNameOf(tenantId: string, collection: string, generation: number): string {
  return `${tenantId}__${collection}__g${generation}`;
}
