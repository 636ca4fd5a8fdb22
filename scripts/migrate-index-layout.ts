import { Client, Connection } from '@temporalio/client';
import { ReindexService } from '../api/services/reindex-service';
import { loadConfig } from '../lib/config';
import { openPlatform, type Platform } from '../lib/platform';
import { FINISHED_STAGES } from '../lib/reindex/types';
import { legacyIndexNameOf } from '../lib/stores/index-name';

/**
 * `npm run migrate:index-layout`: moves every collection still served from a legacy index of its
 * own (`{tenant}__{collection}__g{n}`) into the shared space of its embedding model, through the
 * re-index machinery: a re-index with the same settings builds the next generation in the shared
 * space, its gate checks it, and the swap makes it live; the legacy one stays retained for
 * rollback. `--drop-legacy` then removes legacy indexes no generation serves or is building.
 * Runs against the deployment's configuration (DATABASE_URL, VECTOR_STORE, TEMPORAL_ADDRESS) with
 * its workers running, and can be run again: finished collections are skipped.
 */
export async function migrateIndexLayout(platform: Platform, reindex: ReindexService, options: { dropLegacy: boolean; log?: (line: string) => void }): Promise<{ moved: number; failed: number; dropped: number }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const legacy = await platform.db.query<{ tenant_id: string; name: string; generation: number }>(
    `select c.tenant_id, c.name, c.generation from collections c join collection_generations g
       on g.tenant_id = c.tenant_id and g.collection = c.name and g.generation = c.generation
     where g.index_name is null and c.deleted_at is null order by c.tenant_id, c.name`,
  );
  log(`[layout] ${legacy.length} collection(s) served from a legacy index`);
  let failed = 0;
  for (const row of legacy) {
    const run = await reindex.startReindex({ tenantId: row.tenant_id, collection: row.name });
    log(`[layout] ${row.tenant_id}/${row.name}: g${row.generation} → g${run.toGeneration} (${run.workflowId})`);
    let stage = run.stage;
    while (!FINISHED_STAGES.includes(stage)) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stage = (await reindex.get(row.tenant_id, row.name, run.id)).stage;
    }
    log(`[layout] ${row.tenant_id}/${row.name}: ${stage}`);
    if (stage !== 'done') failed++;
  }
  let dropped = 0;
  if (options.dropLegacy) {
    const unused = await platform.db.query<{ tenant_id: string; collection: string; generation: number }>(
      `select tenant_id, collection, generation from collection_generations where index_name is null and state not in ('live', 'building', 'dropped')`,
    );
    for (const g of unused) {
      await platform.index.dropSpace(legacyIndexNameOf(g.tenant_id, g.collection, g.generation));
      await platform.db.query(
        `update collection_generations set state = 'dropped', retired_at = now() where tenant_id = $1 and collection = $2 and generation = $3`,
        [g.tenant_id, g.collection, g.generation],
      );
      log(`[layout] dropped the legacy index of ${g.tenant_id}/${g.collection} g${g.generation}`);
      dropped++;
    }
  }
  return { moved: legacy.length - failed, failed, dropped };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const platform = await openPlatform(config);
  const temporal = new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }), namespace: config.TEMPORAL_NAMESPACE, dataConverter: platform.payloads.dataConverter });
  try {
    const { failed } = await migrateIndexLayout(platform, new ReindexService(platform, temporal), { dropLegacy: process.argv.includes('--drop-legacy') });
    if (failed > 0) process.exitCode = 1;
  } finally {
    await temporal.connection.close();
    await platform.close();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
