import { join } from 'node:path';
import Postgrator from 'postgrator';
import type { SqlDatabase, SqlExecutor } from './sql';

/** Numbered SQL files, `NNN.do.<what>.sql`, applied in order and never edited once released (checksums). */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'migrations');
/** One advisory lock for the schema, held for the whole run: concurrent starts wait, then find nothing to do. */
const SCHEMA_LOCK = 4_207_311_001;
const SCHEMA_TABLE = 'schemaversion';

/**
 * Brings the schema up to date with postgrator, inside one transaction that holds an advisory
 * lock (Postgres runs DDL transactionally): two processes starting at once both come up, one
 * after the other, and a failed migration leaves the schema as it was. Databases created before
 * the runner (table `schema_migrations`, one row per statement of the same numbering) are adopted.
 * Returns the versions applied now.
 */
export async function migrate(db: SqlDatabase): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const postgrator = new Postgrator({
      migrationPattern: join(MIGRATIONS_DIR, '*.sql'),
      driver: 'pg',
      schemaTable: SCHEMA_TABLE,
      execQuery: async (query: string) => ({ rows: await tx.query(query) }),
      execSqlScript: (script: string) => tx.script(script),
    });
    await adoptLegacyVersions(tx, postgrator);
    const applied = await postgrator.migrate();
    return applied.map((migration) => migration.version);
  });
}

async function adoptLegacyVersions(tx: SqlExecutor, postgrator: Postgrator): Promise<void> {
  const [legacy] = await tx.query<{ exists: boolean }>(`select to_regclass('schema_migrations') is not null as exists`);
  const [adopted] = await tx.query<{ exists: boolean }>(`select to_regclass($1) is not null as exists`, [SCHEMA_TABLE]);
  if (!legacy?.exists || adopted?.exists) return;
  const done = new Set((await tx.query<{ version: number }>('select version from schema_migrations')).map((row) => Number(row.version)));
  await tx.query(`create table ${SCHEMA_TABLE} (version bigint primary key, name text, md5 text, run_at timestamptz)`);
  await tx.query(`insert into ${SCHEMA_TABLE} (version) values (0)`);
  for (const migration of await postgrator.getMigrations()) {
    if (migration.action !== 'do' || !done.has(migration.version)) continue;
    await tx.query(`insert into ${SCHEMA_TABLE} (version, name, md5, run_at) values ($1, $2, $3, now())`, [migration.version, migration.name, migration.md5]);
  }
  await tx.query('drop table schema_migrations');
}
