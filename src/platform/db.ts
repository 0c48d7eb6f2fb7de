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

/** How long a query waits for a connection before it fails (and a web request answers 503). */
export const CONNECT_TIMEOUT_MS = 5_000;

export function createDb(databaseUrl: string, logger: Logger): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 20,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A client losing its connection (PostgreSQL restarting or stopped) emits 'error'; with no listener
  // that ends the process. The pool listens only while a client is idle, so every client gets its own
  // listener for life, checked out or not. The query in progress fails by itself and is handled there.
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn({ err: error.message }, 'PostgreSQL connection lost'));
  });
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle PostgreSQL connection closed'));
  return pool;
}

/**
 * PostgreSQL refused a value (SQLSTATE class 22, data exception: a NUL byte, text where a number goes,
 * a number out of range). What reaches PostgreSQL is checked before; this is the net behind those
 * checks, so a value one of them missed answers 400, not 500.
 */
export function isInvalidDatabaseInput(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('22');
}

/** A unique constraint refused the row: someone else made the same thing first. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === '23505';
}

/** PostgreSQL broke a deadlock or a serialization conflict by aborting this transaction: run it again. */
export function isTransactionConflict(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return code === '40P01' || code === '40001';
}

// SQLSTATE classes and codes that mean "the server is not there right now", not "this query is wrong":
// 08 connection exception, 57P01-57P03 shutdown or starting up, 53300 too many connections.
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[123]|53300)$/;
const UNAVAILABLE_NETWORK_CODES = new Set([
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/;

/**
 * Whether an error means PostgreSQL could not be reached (down, restarting, out of connections),
 * as opposed to a query that would fail the same way again. The first kind is worth waiting out:
 * the web answers 503, workers pause, receipts are held.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NETWORK_CODES.has(code)))
    return true;
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return UNAVAILABLE_MESSAGES.test(error.message);
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
