import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from './logger.js';

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;
/** Either the pool or a client inside a transaction: stores accept both. */
export type Queryable = Pick<pg.Pool, 'query'>;

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

// bigint ids and counts arrive as strings by default; every id here fits a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createDb(databaseUrl: string, logger: Logger): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 20 });
  // An idle client losing its connection (PostgreSQL restart) must not crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL connection closed'));
  return pool;
}

export async function withTransaction<T>(db: Db, work: (client: DbClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Applies pending forward-only migrations. node-pg-migrate holds one advisory lock per database and
 * fails, rather than waits, when another process holds it (two replicas starting at once, or test
 * files migrating their own schemas): wait for it instead, then find nothing left to do.
 */
export async function migrate(
  databaseUrl: string,
  logger: Logger,
  schema?: string,
  timeoutMs = 120_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const applied = await runner({
        databaseUrl,
        dir: MIGRATIONS_DIR,
        direction: 'up',
        migrationsTable: 'schema_migrations',
        ...(schema ? { schema, createSchema: true } : {}),
        checkOrder: true,
        log: (message: string) => logger.debug({ migration: message }, 'migrate'),
        verbose: false,
      });
      return applied.map((migration) => migration.name);
    } catch (error) {
      const locked = error instanceof Error && error.message.includes('Another migration is already running');
      if (!locked || Date.now() > deadline) throw error;
      logger.info('another process is migrating; waiting');
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
}
