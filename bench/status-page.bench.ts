/**
 * Status-page benchmark (DESIGN §6, issue 16 goal 4): requests/s and p99 latency of a published
 * incident's page, beside a bare Express "hello" route measured the same way in the same run, and a
 * bare node:http "hello" as the floor. Each server runs in its own process; autocannon drives them from
 * this one with the same connections and duration. The targets take turns, round after round, so a
 * neighbour's load on a shared machine falls on all of them alike; each figure is the median over the
 * rounds, the ratio the median of each round's ratio. Figures are printed, never asserted.
 * Run: `npx tsx bench/status-page.bench.ts` (PostgreSQL and Redis as for the tests; BENCH_DURATION
 * seconds per target and round, BENCH_ROUNDS, BENCH_CONNECTIONS).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { startListeningProcess, withTimeout } from './support/wait.js';
import { insertIncident, insertIncidentUpdate, publishIncident } from '../src/incidents/store.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

function schemaUrl(schema: string): string {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function startServer(mode: 'hello' | 'raw' | 'candor', env: Record<string, string>) {
  const server = await startListeningProcess(
    `the ${mode} server`,
    path.join(HERE, 'status-page-server.ts'),
    [mode],
    env,
  );
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

interface Figures {
  requestsPerSecond: number;
  p99: number;
  bytes: number;
}

/** One autocannon run, with a deadline; every answer must have the status expected. */
async function drive(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  status: number,
): Promise<Figures> {
  const result = await withTimeout(
    `autocannon on ${url}`,
    autocannon({ url, headers, connections: CONNECTIONS, duration: seconds }),
    (seconds + 30) * 1000,
  );
  const wrong = Object.keys(result.statusCodeStats ?? {}).filter((code) => Number(code) !== status);
  if (result.errors > 0 || wrong.length > 0)
    throw new Error(`${url}: ${result.errors} errors, statuses ${wrong.join(', ') || 'as expected'}`);
  return {
    requestsPerSecond: result.requests.average,
    p99: result.latency.p99,
    bytes: result.throughput.average,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

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

const servers: { stop(): Promise<void> }[] = [];
try {
  const hello = await startServer('hello', {});
  const raw = await startServer('raw', {});
  // Seeded straight into the tables, so the first request publishes the snapshot, as after an upgrade.
  const candor = await startServer('candor', candorEnv);
  servers.push(hello, raw, candor);
  const page = `${candor.url}/incidents/bench-incident`;
  await drive(page, {}, 1, 200);
  const expressOnly = await startServer('candor', { ...candorEnv, STATUS_PAGE_FAST_PATH: 'off' });
  servers.push(expressOnly);
  // What browsers send: the brotli body made at publish time, no compression per request.
  const browser = { 'Accept-Encoding': 'gzip, deflate, br' };
  const etag = (await fetch(page, { headers: browser })).headers.get('etag');
  if (!etag) throw new Error('the status page has no ETag');
  const targets = [
    { name: 'bare Express "hello"', url: `${hello.url}/hello`, headers: {}, status: 200 },
    { name: 'status page (en)', url: page, headers: {}, status: 200 },
    { name: 'status page (br)', url: page, headers: browser, status: 200 },
    { name: 'bare node:http "hello"', url: raw.url, headers: {}, status: 200 },
    { name: 'status page 304', url: page, headers: { ...browser, 'If-None-Match': etag }, status: 304 },
    {
      name: 'status page via Express',
      url: `${expressOnly.url}/incidents/bench-incident`,
      headers: {},
      status: 200,
    },
  ];
  // A short warm-up fills caches and JIT; it does not count.
  for (const target of targets) await drive(target.url, target.headers, 1, target.status);
  const runs = new Map<string, Figures[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (const target of targets)
      runs.get(target.name)!.push(await drive(target.url, target.headers, DURATION, target.status));

  const of = (name: string, pick: (figures: Figures) => number) => median(runs.get(name)!.map(pick));
  const ratioTo = (name: string, baseline: string) =>
    median(
      runs
        .get(name)!
        .map((figures, round) => figures.requestsPerSecond / runs.get(baseline)![round]!.requestsPerSecond),
    );
  console.log(
    `\nstatus page benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s each, one server process each; medians\n`,
  );
  for (const { name } of targets)
    console.log(
      `${name.padEnd(26)} ${of(name, (f) => f.requestsPerSecond)
        .toFixed(0)
        .padStart(
          7,
        )} req/s   p99 ${String(of(name, (f) => f.p99)).padStart(4)} ms   ${(of(name, (f) => f.bytes) / 1024 / 1024).toFixed(1)} MB/s   ${ratioTo(name, 'bare Express "hello"').toFixed(2)} × Express hello`,
    );
  const hello304 = 'bare Express "hello"';
  console.log(
    `\nstatus-page-304: ${of('status page 304', (f) => f.requestsPerSecond).toFixed(0)} req/s revalidations answered 304 (${ratioTo('status page 304', hello304).toFixed(2)} × Express hello; p99 ${of('status page 304', (f) => f.p99)} ms)`,
  );
  console.log(
    `floor: bare node:http hello ${of('bare node:http "hello"', (f) => f.requestsPerSecond).toFixed(0)} req/s (${ratioTo('bare node:http "hello"', hello304).toFixed(2)} × Express hello); the status page is ${ratioTo('status page (en)', 'bare node:http "hello"').toFixed(2)} × that floor, and ${ratioTo('status page (en)', 'status page via Express').toFixed(2)} × itself through Express`,
  );
  console.log(
    `status-page: ${of('status page (en)', (f) => f.requestsPerSecond).toFixed(0)} req/s (${ratioTo('status page (en)', 'bare Express "hello"').toFixed(2)} × Express hello ${of('bare Express "hello"', (f) => f.requestsPerSecond).toFixed(0)} req/s, goal ≥ 1.0×; p99 ${of('status page (en)', (f) => f.p99)} ms, goal < 20 ms)`,
  );
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await db.end();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
