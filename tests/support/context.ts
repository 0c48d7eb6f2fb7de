import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { parseConfig, type Config } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createWebListener } from '../../src/app.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import type { Clock } from '../../src/platform/clock.js';
import { createWorkers, type Workers } from '../../workers/index.js';

/** The PostgreSQL database tests use; each test file works in a schema of its own inside it. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
}

export function databaseUrlForSchema(schema: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export interface TestContext {
  config: Config;
  deps: Deps;
  /** Base URL of the app, listening on loopback (providers post receipts here). */
  baseUrl: string;
  server: http.Server;
  workers: Workers | null;
  schema: string;
  close(): Promise<void>;
}

export interface TestContextOptions {
  /** Extra environment, e.g. provider settings pointing at the fake server. */
  env?: Record<string, string>;
  clock?: Clock;
  workers?: boolean;
  /** Where logs go (to inspect them); silent by default. */
  logger?: Logger;
}

/**
 * A real Candor for one test file: its own PostgreSQL schema and queue prefix, the real app listening
 * on a loopback port, and (optionally) the real workers.
 */
export async function startTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const schema = uniqueName('t');
  const databaseUrl = databaseUrlForSchema(schema);
  const logger = options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  await migrate(databaseUrl, logger, schema);

  // Listen first: the app's public URL (for provider callbacks) is only known once the port is.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const config = parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('q'),
    PUBLIC_BASE_URL: baseUrl,
    SEND_CONCURRENCY: '10',
    // Fast enough not to slow tests down; the rate-limit test sets its own.
    EMAIL_RATE_PER_SECOND: '1000',
    SMS_RATE_PER_SECOND: '1000',
    VOICE_RATE_PER_SECOND: '1000',
    LETTER_RATE_PER_SECOND: '1000',
    RECONCILE_EVERY_SECONDS: '1',
    // Tests run at any hour: SMS and calls may go whenever the suite runs. A test about calling hours
    // sets its own, together with a clock.
    CALLING_HOURS: '00:00-24:00',
    ...options.env,
  });
  const deps = await createDeps(config, { logger, ...(options.clock ? { clock: options.clock } : {}) });
  server.on('request', createWebListener(deps));
  const workers = options.workers ? createWorkers(deps) : null;

  return {
    config,
    deps,
    baseUrl,
    server,
    workers,
    schema,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await workers?.close();
      await Promise.all(
        [...deps.queues.all(), deps.portalQueue].map((queue) =>
          queue.obliterate({ force: true }).catch(() => undefined),
        ),
      );
      await deps.close();
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** Polls until `check` returns a value other than undefined/false, or fails with `what` after the deadline. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
