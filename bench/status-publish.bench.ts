/**
 * How long a publish takes (render 8 locales of page, feed and index, gzip and brotli each, store in
 * one transaction, copy to Redis): the time staff wait after "post update". Printed, never asserted.
 * Run: `npx tsx bench/status-publish.bench.ts` (PostgreSQL and Redis as for the tests; BENCH_PUBLISHES).
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { insertIncident } from '../src/incidents/store.js';
import { postIncidentUpdate, publishIncidentPage } from '../src/incidents/service.js';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PUBLISHES = Number(process.env.BENCH_PUBLISHES ?? 20);

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
  await publishIncidentPage(deps, incident.id);
  const times: number[] = [];
  for (let i = 0; i < PUBLISHES; i++) {
    const start = performance.now();
    await postIncidentUpdate(deps, {
      incidentId: incident.id,
      texts: { en: { title: `Update ${i + 1}`, body: text } },
    });
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
} finally {
  await deps.close();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
