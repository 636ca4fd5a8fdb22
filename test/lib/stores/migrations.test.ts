import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { migrate, MIGRATIONS_DIR } from '../../../lib/stores/migrations';
import { openEmbeddedPostgres, openPostgres } from '../../../lib/stores/sql';
import { postgresBinDir, startTemporaryPostgres } from '../../helpers/postgres';

const versions = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d+\.do\./.test(f)).map((f) => Number(f.split('.')[0])).sort((a, b) => a - b);

describe('schema migrations (postgrator, under an advisory lock)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('apply every file once on a new database, and nothing the second time', async () => {
    const db = await openEmbeddedPostgres(join(dir, 'fresh'));
    try {
      assert.deepEqual(await migrate(db), versions);
      assert.deepEqual(await migrate(db), []);
      const [row] = await db.query<{ max: string }>('select max(version) as max from schemaversion');
      assert.equal(Number(row?.max), versions.at(-1));
      assert.ok((await db.query("select 1 from pg_tables where tablename = 'vector_points'")).length === 1, 'the embedded index tables are migrations too');
    } finally {
      await db.close();
    }
  });

  it('adopt a database made before the runner: its applied statements are not run again', async () => {
    const db = await openEmbeddedPostgres(join(dir, 'legacy'));
    try {
      await migrate(db);
      // What the old runner left: one row per statement it had applied, the first 21.
      await db.query('drop table schemaversion');
      await db.query('drop table if exists vector_aliases');
      await db.query('drop table vector_points');
      await db.query('drop table vector_indexes');
      await db.query('create table schema_migrations (version int primary key)');
      for (let v = 1; v <= 21; v++) await db.query('insert into schema_migrations (version) values ($1)', [v]);
      assert.deepEqual(await migrate(db), versions.filter((v) => v > 21), 'only the newer files run (the audit trigger would fail if recreated)');
      assert.equal((await db.query("select 1 from pg_tables where tablename = 'schema_migrations'")).length, 0);
      const md5s = await db.query<{ md5: string | null }>('select md5 from schemaversion where version between 1 and 21');
      assert.equal(md5s.length, 21);
      assert.ok(md5s.every((r) => typeof r.md5 === 'string' && r.md5.length === 32), 'adopted versions carry checksums');
    } finally {
      await db.close();
    }
  });

  const binDir = postgresBinDir();
  it('let two processes start at once on one Postgres: both come up, each migration runs once', { skip: binDir ? undefined : 'no PostgreSQL server installed (scripts/setup.sh installs Debian\'s postgresql as root)' }, async () => {
    const server = await startTemporaryPostgres();
    const [a, b] = [await openPostgres(server.url), await openPostgres(server.url)];
    try {
      const [first, second] = await Promise.all([migrate(a), migrate(b)]);
      assert.deepEqual([...first, ...second].sort((x, y) => x - y), versions, JSON.stringify({ first, second }));
      assert.ok(first.length === 0 || second.length === 0, 'one waited for the other and found nothing to do');
    } finally {
      await a.close();
      await b.close();
      await server.stop();
    }
  });
});
