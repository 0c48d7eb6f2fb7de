/**
 * How long a publish takes (render 8 locales of page, feed and index, gzip and brotli each, store in
 * one transaction, copy to Redis): the time staff wait after "post update". Printed, never asserted.
 * Run: `npx tsx bench/status-publish.bench.ts` (PostgreSQL and Redis as for the tests; BENCH_PUBLISHES).
 * Baseline in the same run: one transaction writing the same stored documents (copied row for row
 * into a scratch table), the floor under "store"; the last line is the median publish against it
 * (goal: staff wait under a second).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { insertIncident } from '../src/incidents/store.js';
import { postIncidentUpdate, publishIncidentPage } from '../src/incidents/service.js';
import { withTimeout } from './support/wait.js';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PUBLISHES = Number(process.env.BENCH_PUBLISHES ?? 20);
/** One publish takes well under a second here; far longer means it has stalled. */
const PUBLISH_TIMEOUT_MS = 60_000;

const schema = `bench_${crypto.randomBytes(4).toString('hex')}`;
const url = new URL(DATABASE_URL);
url.searchParams.set('options', `-c search_path=${schema}`);
const logger = createLogger({ level: 'silent' });
await migrate(url.toString(), logger, schema);
const prefix = `bench-${crypto.randomBytes(4).toString('hex')}`;
const deps = await createDeps(
  parseConfig({
    NODE_ENV: 'production',
    DATABASE_URL: url.toString(),
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    PUBLIC_BASE_URL: 'https://status.example.com',
    ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
    LOOKUP_HMAC_KEY: crypto.randomBytes(32).toString('base64'),
    SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
  }),
  { logger },
);
try {
  const text = 'What we have learned since the last update, in plain words. '.repeat(4);
  const incident = await insertIncident(deps.db, {
    slug: 'bench-publish',
    organisationName: 'Northwind Outfitters',
    dataTypes: ['names', 'email_addresses'],
    helplines: { en: '+44 800 111 2222', fr: '+33 1 23 45 67 89' },
    texts: {
      en: {
        title: 'Customer details exposed',
        whatHappened: text,
        whatData: text,
        whatWeDid: text,
        whatYouShouldDo: text,
        howToGetHelp: text,
      },
    },
  });
  await withTimeout('the first publish', publishIncidentPage(deps, incident.id), PUBLISH_TIMEOUT_MS);
  const times: number[] = [];
  for (let i = 0; i < PUBLISHES; i++) {
    const start = performance.now();
    await withTimeout(
      `publish ${i + 1}`,
      postIncidentUpdate(deps, {
        incidentId: incident.id,
        texts: { en: { title: `Update ${i + 1}`, body: text } },
      }),
      PUBLISH_TIMEOUT_MS,
    );
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const { rows } = await deps.db.query<{ bytes: number; br: number; gzip: number }>(
    `SELECT sum(length(body))::int AS bytes, sum(length(body_br))::int AS br, sum(length(body_gzip))::int AS gzip
     FROM status_documents`,
  );
  console.log(
    `\nstatus publish: ${PUBLISHES} updates, ${incident.id && 24} documents each; ` +
      `median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms; ` +
      `${(rows[0]!.bytes / 1024).toFixed(0)} KB stored, gzip ${(rows[0]!.gzip / 1024).toFixed(0)} KB, brotli ${(rows[0]!.br / 1024).toFixed(0)} KB`,
  );
  // The floor: the same stored documents written again in one transaction, as many times.
  await deps.db.query('CREATE TABLE bench_documents (LIKE status_documents)');
  const floors: number[] = [];
  for (let i = 0; i < PUBLISHES; i++) {
    const start = performance.now();
    await withTimeout(
      'a copy of the stored documents',
      deps.db.query('INSERT INTO bench_documents SELECT * FROM status_documents'),
      PUBLISH_TIMEOUT_MS,
    );
    floors.push(performance.now() - start);
  }
  floors.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const floor = floors[Math.floor(floors.length / 2)]!;
  console.log(
    `load average ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `status-publish: median ${median.toFixed(0)} ms a publish (${(median / floor).toFixed(1)} × writing the same ` +
      `documents in one transaction, ${floor.toFixed(1)} ms; goal < 1,000 ms)`,
  );
} finally {
  await deps.close();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
