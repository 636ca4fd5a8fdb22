import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** The one SQL dialect (Postgres) the metadata store speaks, over a server or the embedded PGlite. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface SqlDatabase extends SqlExecutor {
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openPostgres(connectionString: string): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  const run = async <Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]) =>
    (await client.query(sql, params as unknown[])).rows as Row[];
  return {
    query: (sql, params) => run(pool, sql, params),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({ query: (sql, params) => run(client, sql, params) });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * Embedded Postgres (PGlite) in a data directory. PGlite is single-process, so we hold a lock file
 * with our pid. A process killed mid-write leaves PGlite's own postmaster.pid behind, which makes the
 * next open hang; when the lock's owner is dead that file is stale and safe to remove (WAL recovery
 * then replays every committed transaction).
 */
export async function openEmbeddedPostgres(dataDir: string): Promise<SqlDatabase> {
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = acquireProcessLock(join(dataDir, 'owner.lock'));
  try {
    rmSync(join(dataDir, 'pgdata', 'postmaster.pid'), { force: true });
    const db = await PGlite.create(join(dataDir, 'pgdata'));
    return {
      query: async (sql, params) => (await db.query(sql, params)).rows as never[],
      transaction: (work) => db.transaction((tx) => work({ query: async (sql, params) => (await tx.query(sql, params)).rows as never[] })),
      async close() {
        await db.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

function acquireProcessLock(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8'));
      // Our own pid counts as alive too: this process already has the database open.
      if (owner && isAlive(owner)) {
        throw new Error(
          `the embedded database in ${path} is in use by process ${owner}; run the API and worker in one process ` +
            '(npm start) or point DATABASE_URL at Postgres',
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
