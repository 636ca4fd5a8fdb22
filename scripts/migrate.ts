import { join } from 'node:path';
import { loadConfig } from '../lib/config';
import { migrate } from '../lib/stores/migrations';
import { openEmbeddedPostgres, openPostgres } from '../lib/stores/sql';

/**
 * `npm run migrate`: the schema step on its own (docker-compose runs it once before the API and
 * the worker). Processes also migrate when they start; the advisory lock makes that safe.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = config.DATABASE_URL ? await openPostgres(config.DATABASE_URL) : await openEmbeddedPostgres(join(config.DATA_DIR, 'db'));
  try {
    const applied = await migrate(db);
    console.log(applied.length === 0 ? '[migrate] the schema is up to date' : `[migrate] applied ${applied.join(', ')}`);
  } finally {
    await db.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
