import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** The one SQL dialect (Postgres) the metadata store speaks, over a server or the embedded PGlite. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Several statements at once, without parameters: a migration file. */
  script(sql: string): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel (a plain identifier); resolves once listening, with the function that
   * stops. Messages are sent with `SELECT pg_notify(channel, payload)`.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Timestamps arrive as Date from pg and as Date or string from PGlite; the API speaks ISO 8601. */
export function isoTimestamp(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel ${channel}`);
}

export async function openPostgres(connectionString: string): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  const run = async <Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]) =>
    (await client.query(sql, params as unknown[])).rows as Row[];
  const listeners = new PostgresListeners(connectionString);
  return {
    query: (sql, params) => run(pool, sql, params),
    script: async (sql) => void (await pool.query(sql)),
    listen: (channel, onMessage) => listeners.listen(channel, onMessage),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({ query: (sql, params) => run(client, sql, params), script: async (sql) => void (await client.query(sql)) });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await listeners.close();
      await pool.end();
    },
  };
}

/** One connection for every LISTEN of this process, so subscriptions never starve the pool. */
class PostgresListeners {
  private client?: Promise<pg.Client>;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();

  constructor(private readonly connectionString: string) {}

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    checkChannel(channel);
    const client = await this.connect();
    let handlers = this.handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(channel, handlers);
      await client.query(`LISTEN ${channel}`);
    }
    handlers.add(onMessage);
    return async () => {
      handlers.delete(onMessage);
      if (handlers.size === 0 && this.handlers.get(channel) === handlers) {
        this.handlers.delete(channel);
        await client.query(`UNLISTEN ${channel}`);
      }
    };
  }

  async close(): Promise<void> {
    if (this.client) await (await this.client).end();
  }

  private connect(): Promise<pg.Client> {
    this.client ??= (async () => {
      const client = new pg.Client({ connectionString: this.connectionString });
      await client.connect();
      client.on('notification', ({ channel, payload }) => {
        for (const handler of this.handlers.get(channel) ?? []) handler(payload ?? '');
      });
      return client;
    })();
    return this.client;
  }
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
      script: async (sql) => void (await db.exec(sql)),
      transaction: (work) =>
        db.transaction((tx) => work({ query: async (sql, params) => (await tx.query(sql, params)).rows as never[], script: async (sql) => void (await tx.exec(sql)) })),
      async listen(channel, onMessage) {
        checkChannel(channel);
        return db.listen(channel, onMessage);
      },
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
