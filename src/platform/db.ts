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

/** Applies pending forward-only migrations; safe to run from several processes at once (advisory lock). */
export async function migrate(databaseUrl: string, logger: Logger, schema?: string): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    ...(schema ? { schema, createSchema: true } : {}),
    checkOrder: true,
    // Wait for another process's migration rather than fail: parallel test files and web replicas
    // starting together all migrate (node-pg-migrate's default is to throw).
    advisoryLockMode: 'wait',
    log: (message: string) => logger.debug({ migration: message }, 'migrate'),
    verbose: false,
  });
  return applied.map((migration) => migration.name);
}
