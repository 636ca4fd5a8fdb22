import { inTarget } from '../../activities/indexing';
import type { Platform } from '../../lib/platform';
import { targetOf } from '../../lib/stores/generation-store';
import type { PointFilter } from '../../lib/stores/vector-index';

/** Points of a collection generation (the live one unless named), read where Postgres says they are. */
export async function countPoints(
  platform: Pick<Platform, 'generations' | 'index'>,
  where: { tenantId?: string; collection: string; generation?: number } & Omit<PointFilter, 'tenantId' | 'collection' | 'generation'>,
): Promise<number> {
  const { tenantId = 'default', collection, generation, ...filter } = where;
  const record = generation === undefined ? await platform.generations.live(tenantId, collection) : await platform.generations.get(tenantId, collection, generation);
  if (!record) return 0;
  const target = targetOf(record);
  return platform.index.count(target.indexName, inTarget(target, { ...filter, tenantId, collection }));
}
