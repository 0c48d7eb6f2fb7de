/**
 * Status-page benchmark (DESIGN §6): requests/s and p99 latency of a published incident's page, beside a
 * bare Express "hello" route measured the same way in the same run. Each server runs in its own
 * process; autocannon drives both with the same connections and duration. Figures are printed, never
 * asserted. Run: `npx tsx bench/status-page.bench.ts` (PostgreSQL and Redis as for the tests;
 * BENCH_DURATION seconds per run, BENCH_CONNECTIONS).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { startListeningProcess } from './support/wait.js';
import { insertIncident, insertIncidentUpdate, publishIncident } from '../src/incidents/store.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

function schemaUrl(schema: string): string {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function startServer(mode: 'hello' | 'candor', env: Record<string, string>) {
  const server = await startListeningProcess(
    `the ${mode} server`,
    path.join(HERE, 'status-page-server.ts'),
    [mode],
    env,
  );
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

async function load(url: string, headers: Record<string, string> = {}) {
  // A short warm-up fills caches and JIT; only the second run counts.
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 2 });
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    requestsPerSecond: result.requests.average,
    p99: result.latency.p99,
    bytes: result.throughput.average,
  };
}

const schema = `bench_${crypto.randomBytes(4).toString('hex')}`;
const databaseUrl = schemaUrl(schema);
await migrate(databaseUrl, createLogger({ level: 'silent' }), schema);
const db = new pg.Pool({ connectionString: databaseUrl });
const incident = await insertIncident(db, {
  slug: 'bench-incident',
  organisationName: 'Northwind Outfitters',
  state: 'notifying',
  dataTypes: ['names', 'email_addresses', 'postal_addresses', 'payment_cards'],
  helplines: { en: '+44 800 111 2222', fr: '+33 1 23 45 67 89', ar: '+44 800 111 3333' },
  texts: {
    en: {
      title: 'Customer payment details exposed',
      whatHappened: 'On 18 November we found that an attacker had copied part of our customer database.',
      whatData:
        'Names, email and postal addresses, and the last four digits and expiry dates of payment cards.',
      whatWeDid: 'We closed the gap the same day, reset every staff password and called in specialists.',
      whatYouShouldDo: 'Watch your card statements and be wary of emails that mention your orders.',
      howToGetHelp: 'Call our helpline, seven days a week, 8 am to 8 pm.',
    },
  },
});
await publishIncident(db, incident.id, new Date());
for (let day = 0; day < 5; day++) {
  await insertIncidentUpdate(db, {
    incidentId: incident.id,
    publishedAt: new Date(Date.UTC(2026, 10, 18 + day, 10)),
    texts: {
      en: { title: `Update ${day + 1}`, body: 'What we have learned since the last update, in plain words.' },
    },
  });
}

const candorEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: databaseUrl,
  REDIS_URL,
  QUEUE_PREFIX: `bench-${crypto.randomBytes(4).toString('hex')}`,
  PUBLIC_BASE_URL: 'https://status.example.com',
  ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
  LOOKUP_HMAC_KEY: crypto.randomBytes(32).toString('base64'),
  SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
  LOG_LEVEL: 'silent',
};

try {
  const hello = await startServer('hello', {});
  const helloFigures = await load(`${hello.url}/hello`).finally(() => hello.stop());
  // Seeded straight into the tables, so the first request publishes the snapshot, as after an upgrade.
  const candor = await startServer('candor', candorEnv);
  const page = `${candor.url}/incidents/bench-incident`;
  const statusFigures = await load(page);
  // What browsers send: the brotli body made at publish time, no compression per request.
  const brotliFigures = await load(page, { 'Accept-Encoding': 'gzip, deflate, br' }).finally(() =>
    candor.stop(),
  );

  const ratio = statusFigures.requestsPerSecond / helloFigures.requestsPerSecond;
  const rows = [
    ['bare Express "hello"', helloFigures],
    ['status page (snapshot, en)', statusFigures],
    ['status page (snapshot, br)', brotliFigures],
  ] as const;
  console.log(
    `\nstatus page benchmark: ${CONNECTIONS} connections, ${DURATION} s each, one server process each\n`,
  );
  for (const [name, figures] of rows)
    console.log(
      `${name.padEnd(28)} ${figures.requestsPerSecond.toFixed(0).padStart(7)} req/s   p99 ${String(figures.p99).padStart(4)} ms   ${(figures.bytes / 1024 / 1024).toFixed(1)} MB/s`,
    );
  console.log(
    `\nstatus page / hello = ${ratio.toFixed(2)}, brotli ${(brotliFigures.requestsPerSecond / helloFigures.requestsPerSecond).toFixed(2)} (goal ≥ 0.90); status page p99 ${statusFigures.p99} ms (goal < 50 ms)`,
  );
} finally {
  await db.end();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
