/**
 * Webhook benchmark (DESIGN §6, "webhooks: events/s ingested and applied"): signed delivery receipts
 * posted over loopback HTTP by many concurrent clients to the real web process, timed from the first
 * POST until every event is verified, stored and applied to `messages` in PostgreSQL. Receipts are
 * applied inside the request (no worker), so the last 204 is the moment the last event is applied;
 * the bench then checks PostgreSQL to prove it.
 *
 * Setup, not timed: a campaign of BENCH_MESSAGES email and BENCH_MESSAGES SMS messages goes out through
 * the real workers and official SDKs to the test suite's fake providers (which post no receipts), so
 * every message is really 'sent' with the provider's id. The receipts are then built and signed by the
 * fake providers' own code: SendGrid Event Webhook batches of BENCH_BATCH events (processed, then
 * delivered, or a bounce for one message in twenty, which falls back to SMS), and Twilio status
 * callbacks one per POST (sent, then delivered, or undelivered for one in twenty).
 *
 * Baselines in the same run: the same POSTs, same concurrency, to a bare Express route that parses
 * the same bodies with the same parsers; and one PostgreSQL single-row UPDATE per event, same callers
 * on a pool the size of the app's. Finally every receipt is posted again: a replay must change nothing.
 *
 * Batch size: SendGrid does not post one event per request. It gathers events and posts them every
 * 30 seconds or when the batch reaches about 768 KB, whichever comes first, per sending server, so a
 * busy account receives batches of hundreds to a few thousand events from a handful of senders at a
 * time. The default is batches of 1,000 events (the bench prints their size in bytes) from
 * BENCH_SENDGRID_CONNECTIONS=4 senders at once; Twilio posts one status per request, from many
 * connections (BENCH_CONNECTIONS=50).
 *
 *   npm run bench webhooks       (BENCH_MESSAGES=10000 per provider, BENCH_BATCH=1000,
 *                                 BENCH_SENDGRID_CONNECTIONS=4, BENCH_CONNECTIONS=50)
 *   BENCH_BATCH=100 BENCH_SENDGRID_CONNECTIONS=50 npm run bench webhooks
 */
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { createWorkers } from '../workers/index.js';
import { campaignProgress, startCampaign } from '../src/campaigns/service.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../tests/support/factories.js';
import { startProviders, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../tests/support/providers.js';
import {
  buildSendgridEvents,
  twilioCallbackHeaders,
  twilioMessageCallback,
} from '../tests/fakes/provider-server.js';
import { MESSAGE_ID_ARG, verifySendgridSignature } from '../src/channels/sendgrid.js';
import { startListeningProcess, waitUntil, withTimeout } from './support/wait.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Sending the set-up campaign through the fake providers; minutes even at 20,000 per provider. */
const SETUP_TIMEOUT_MS = Number(process.env.BENCH_SETUP_TIMEOUT_MS ?? 300_000);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SENDGRID_CONNECTIONS = Number(process.env.BENCH_SENDGRID_CONNECTIONS ?? 4);
/** One timed run of POSTs (a few seconds here); far longer means the server has stopped answering. */
const DRIVE_TIMEOUT_MS = Number(process.env.BENCH_DRIVE_TIMEOUT_MS ?? 300_000);
/** One message in this many fails permanently (a bounce, an undelivered SMS) and falls back. */
const FAILURE_EVERY = 20;
/** Share of each provider's POSTs sent first, untimed, to warm the JIT and the connection pools. */
const WARMUP_SHARE = 0.05;
/** The app's PostgreSQL pool size (src/platform/db.ts), for the UPDATE baseline. */
const APP_POOL_SIZE = 20;
const PUBLIC_BASE_URL = 'https://candor.bench.example';

interface Post {
  path: string;
  headers: Record<string, string>;
  body: string;
  events: number;
}

interface LoadFigures {
  posts: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  rejected: number;
  firstRejection: string | null;
  load: string;
}

const load1 = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

function schemaUrl(schema: string): string {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function startServer(mode: 'bare' | 'candor', env: Record<string, string>) {
  return startListeningProcess(
    `the ${mode} webhook server`,
    path.join(HERE, 'support/webhook-server.ts'),
    [mode],
    env,
  );
}

function postOnce(agent: http.Agent, port: number, post: Post): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: post.path,
        agent,
        headers: { ...post.headers, 'Content-Length': String(Buffer.byteLength(post.body)) },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end(post.body);
  });
}

/** CONNECTIONS clients on keep-alive connections, each taking the next POST as soon as its last one is answered. */
async function drive(port: number, posts: Post[], connections: number): Promise<LoadFigures> {
  return withTimeout(
    `${posts.length} POSTs to be answered`,
    driveUntimed(port, posts, connections),
    DRIVE_TIMEOUT_MS,
  );
}

async function driveUntimed(port: number, posts: Post[], connections: number): Promise<LoadFigures> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let next = 0;
  let rejected = 0;
  let firstRejection: string | null = null;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < posts.length) {
        const post = posts[next++]!;
        const sent = performance.now();
        const { status, body } = await postOnce(agent, port, post);
        latencies.push(performance.now() - sent);
        if (status !== 204) {
          rejected += 1;
          firstRejection ??= `${status} ${post.path}: ${body.slice(0, 200)}`;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const events = posts.reduce((sum, post) => sum + post.events, 0);
  return {
    posts: posts.length,
    events,
    seconds,
    eventsPerSecond: events / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rejected,
    firstRejection,
    load: load1(),
  };
}

/** Warm up on the first few POSTs, then time the rest. */
async function warmThenDrive(port: number, posts: Post[], connections: number): Promise<LoadFigures> {
  const warm = Math.ceil(posts.length * WARMUP_SHARE);
  const warmup = await drive(port, posts.slice(0, warm), connections);
  if (warmup.rejected > 0) throw new Error(`warm-up rejected: ${warmup.firstRejection}`);
  return drive(port, posts.slice(warm), connections);
}

/** The floor under "applied": one single-row UPDATE per event, CONNECTIONS callers on the app's pool size. */
async function measureUpdates(databaseUrl: string, events: number, connections: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: APP_POOL_SIZE });
  await pool.query('CREATE TABLE bench_baseline (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0)');
  await pool.query('INSERT INTO bench_baseline (id) SELECT generate_series(1, $1)', [MESSAGES]);
  await Promise.all(Array.from({ length: APP_POOL_SIZE }, () => pool.query('SELECT 1')));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < events) {
        const id = (next++ % MESSAGES) + 1;
        await pool.query('UPDATE bench_baseline SET n = n + 1 WHERE id = $1', [id]);
      }
    }),
  );
  const perSecond = events / ((performance.now() - started) / 1000);
  await pool.query('DROP TABLE bench_baseline');
  await pool.end();
  return perSecond;
}

/** Everything a receipt can change, as one fingerprint. */
async function fingerprint(db: pg.Pool): Promise<string> {
  const { rows } = await db.query<{ messages: string; events: number; counts: string; campaigns: string }>(
    `SELECT
       (SELECT md5(string_agg(concat_ws('|', id, status, status_reason, sent_at, delivered_at, failed_at,
                                        updated_at, fallback, attempt, channel), ',' ORDER BY id)) FROM messages) AS messages,
       (SELECT count(*)::int FROM delivery_events) AS events,
       (SELECT md5(string_agg(concat_ws('|', campaign_id, channel, status, shard, n), ',' ORDER BY campaign_id, channel, status, shard))
          FROM campaign_message_counts) AS counts,
       (SELECT md5(string_agg(concat_ws('|', id, status, exhausted_count, completed_at), ',' ORDER BY id)) FROM campaigns) AS campaigns`,
  );
  return JSON.stringify(rows[0]);
}

const schema = `bench_${crypto.randomBytes(4).toString('hex')}`;
const databaseUrl = schemaUrl(schema);
console.log(
  `webhooks: ${MESSAGES} email + ${MESSAGES} SMS messages, SendGrid batches of ${BATCH} events from ` +
    `${SENDGRID_CONNECTIONS} senders at once, Twilio callbacks from ${CONNECTIONS} clients, one web process, ` +
    `schema ${schema}; load average ${load1()}`,
);
const providers = await startProviders();
const { fake } = providers;
fake.setBehaviour((request) => {
  // Keep only what receipts are built from: the bodies carry each notice in full.
  if (isRecord(request.body) && request.kind === 'sendgrid')
    request.body = { personalizations: request.body.personalizations, custom_args: request.body.custom_args };
  request.headers = {};
  return { reply: 'accept', receipt: null };
});
const env: Record<string, string> = {
  NODE_ENV: 'production',
  DATABASE_URL: databaseUrl,
  REDIS_URL,
  QUEUE_PREFIX: schema,
  PUBLIC_BASE_URL,
  ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
  LOOKUP_HMAC_KEY: crypto.randomBytes(32).toString('base64'),
  SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
  LOG_LEVEL: 'silent',
  SEND_CONCURRENCY: '50',
  EMAIL_RATE_PER_SECOND: '10000',
  SMS_RATE_PER_SECOND: '10000',
  // The set-up sends SMS: at night, calling hours would hold them until morning.
  CALLING_HOURS: '00:00-24:00',
  ...providers.env,
};
const config = parseConfig(env);
await migrate(databaseUrl, createLogger({ level: 'silent' }), schema);
const deps = await createDeps(config, { logger: createLogger({ level: 'silent' }) });

try {
  const setupStarted = performance.now();
  const incident = await makeIncident(deps);
  const phone = (i: number) => `+4479${String(i).padStart(8, '0')}`;
  for (let i = 0; i < 2 * MESSAGES; i += 1_000) {
    await makePeople(
      deps,
      incident.id,
      Array.from({ length: Math.min(1_000, 2 * MESSAGES - i) }, (_, j) => {
        const n = i + j;
        // The first half have an email address (and a phone to fall back on), the rest a phone only.
        return makePerson({ email: n < MESSAGES ? `p${n}@bench.example` : null, phone: phone(n) });
      }),
    );
  }
  const campaign = await makeApprovedCampaign(deps, incident.id);
  const workers = createWorkers(deps);
  await startCampaign(deps, { campaignId: campaign.id });
  await waitUntil(
    `all ${2 * MESSAGES} set-up messages to be recorded sent`,
    async () => (await campaignProgress(deps, { campaignId: campaign.id })).totals.sent >= 2 * MESSAGES,
    SETUP_TIMEOUT_MS,
  );
  await workers.close();
  await fake.close();

  const { rows: sent } = await deps.db.query<{ id: number; channel: string; provider_message_id: string }>(
    `SELECT id, channel, provider_message_id FROM messages WHERE status = 'sent' ORDER BY id`,
  );
  const requestById = new Map(fake.requests.map((request) => [request.providerMessageId, request]));
  // Email goes in batches: each message's receipts name only its own personalization of the request.
  const ownEmail = new Map<number, unknown>();
  for (const request of fake.requests) {
    if (request.kind !== 'sendgrid') continue;
    const body = request.body as { personalizations?: { custom_args?: Record<string, string> }[] };
    for (const personalization of body.personalizations ?? []) {
      const id = Number(personalization.custom_args?.[MESSAGE_ID_ARG]);
      if (id) ownEmail.set(id, { ...body, personalizations: [personalization] });
    }
  }
  const sendgridPosts: Post[] = [];
  const twilioPosts: Post[] = [];
  let batch: Record<string, unknown>[] = [];
  const flush = () => {
    const { body, headers } = fake.signSendgridEvents(batch);
    sendgridPosts.push({ path: '/webhooks/sendgrid', headers, body, events: batch.length });
    batch = [];
  };
  let nth = 0;
  for (const message of sent) {
    const request = requestById.get(message.provider_message_id);
    if (!request) throw new Error(`message ${message.id}: no request at the fake provider`);
    const fails = ++nth % FAILURE_EVERY === 0;
    if (message.channel === 'email') {
      for (const status of ['processed', fails ? 'bounce' : 'delivered'])
        batch.push(...buildSendgridEvents(ownEmail.get(message.id), message.provider_message_id, status));
      if (batch.length >= BATCH) flush();
    } else {
      const params = request.body as Record<string, string>;
      const url = params.StatusCallback ?? '';
      for (const status of ['sent', fails ? 'undelivered' : 'delivered']) {
        const callback = twilioMessageCallback(
          TWILIO_ACCOUNT_SID,
          message.provider_message_id,
          params,
          status,
        );
        twilioPosts.push({
          path: url.slice(PUBLIC_BASE_URL.length),
          headers: twilioCallbackHeaders(TWILIO_AUTH_TOKEN, url, callback),
          body: new URLSearchParams(callback).toString(),
          events: 1,
        });
      }
    }
  }
  if (batch.length > 0) flush();
  const sendgridEvents = sendgridPosts.reduce((sum, post) => sum + post.events, 0);
  console.log(
    `setup: ${sent.length} messages sent through the fake providers in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s; ` +
      `${sendgridEvents} SendGrid events in ${sendgridPosts.length} POSTs ` +
      `(${(sendgridPosts.reduce((sum, post) => sum + post.body.length, 0) / sendgridPosts.length / 1024).toFixed(0)} KB a POST), ` +
      `${twilioPosts.length} Twilio callbacks`,
  );

  const verification = measureVerification(fake.sendgridWebhookPublicKey, sendgridPosts);

  const bare = await startServer('bare', {});
  const bareSendgrid = await warmThenDrive(bare.port, sendgridPosts, SENDGRID_CONNECTIONS);
  const bareTwilio = await warmThenDrive(bare.port, twilioPosts, CONNECTIONS);
  await bare.stop();
  // The floor under "applied", for both providers: single-row UPDATEs from as many callers as Twilio's.
  const updates = {
    sendgrid: await measureUpdates(databaseUrl, bareSendgrid.events, CONNECTIONS),
    twilio: await measureUpdates(databaseUrl, bareTwilio.events, CONNECTIONS),
  };

  const candor = await startServer('candor', env);
  const sendgrid = await warmThenDrive(candor.port, sendgridPosts, SENDGRID_CONNECTIONS);
  const twilio = await warmThenDrive(candor.port, twilioPosts, CONNECTIONS);

  const { rows: applied } = await deps.db.query<{
    channel: string;
    attempt: number;
    status: string;
    n: number;
  }>(`SELECT channel, attempt, status, count(*)::int AS n FROM messages GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
  const { rows: unapplied } = await deps.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE attempt = 1 AND status = 'sent'`,
  );
  const { rows: stored } = await deps.db.query<{ provider: string; n: number }>(
    'SELECT provider, count(*)::int AS n FROM delivery_events GROUP BY 1 ORDER BY 1',
  );

  const before = await fingerprint(deps.db);
  const replay = await drive(candor.port, [...sendgridPosts, ...twilioPosts], CONNECTIONS);
  const after = await fingerprint(deps.db);
  await candor.stop();

  const row = (name: string, figures: LoadFigures, baseline: LoadFigures, updatesPerSecond: number) =>
    console.log(
      `${name.padEnd(9)} ${String(figures.events).padStart(6)} events ${String(figures.posts).padStart(6)} POSTs ` +
        `${figures.seconds.toFixed(2).padStart(6)} s ${figures.eventsPerSecond.toFixed(0).padStart(6)} events/s ` +
        `p50 ${figures.p50.toFixed(1)} ms p99 ${figures.p99.toFixed(1)} ms rejected ${figures.rejected}  ` +
        `| bare Express ${baseline.eventsPerSecond.toFixed(0)} events/s (p99 ${baseline.p99.toFixed(1)} ms, ratio ${(figures.eventsPerSecond / baseline.eventsPerSecond).toFixed(2)}) ` +
        `| PostgreSQL UPDATEs ${updatesPerSecond.toFixed(0)}/s (ratio ${(figures.eventsPerSecond / updatesPerSecond).toFixed(2)}) ` +
        `| load ${figures.load}`,
    );
  console.log('\ntimed, after a warm-up of the first 5% of each provider’s POSTs:');
  row('SendGrid', sendgrid, bareSendgrid, updates.sendgrid);
  row('Twilio', twilio, bareTwilio, updates.twilio);
  for (const figures of [sendgrid, twilio, bareSendgrid, bareTwilio])
    if (figures.firstRejection) console.log(`first rejection: ${figures.firstRejection}`);
  console.log(
    '\nbaselines: "bare Express" is the same POSTs at the same concurrency to Express routes that only parse the ' +
      'same bodies with the same parsers; "PostgreSQL UPDATEs" is one single-row UPDATE per event by the same ' +
      `number of callers on a ${APP_POOL_SIZE}-connection pool, like the app's`,
  );
  console.log(
    `\napplied: delivery_events ${stored.map((s) => `${s.provider} ${s.n}`).join(', ')} ` +
      `(posted ${sendgridEvents} SendGrid, ${twilioPosts.length} Twilio, warm-up included)`,
  );
  console.log(`first messages a receipt has not moved on from 'sent': ${unapplied[0]?.n ?? NaN}`);
  console.log(
    `messages: ${applied.map((a) => `${a.channel} attempt ${a.attempt} ${a.status} ${a.n}`).join('; ')}`,
  );
  console.log(
    `replay of all ${replay.posts} POSTs (${replay.events} events): ${replay.eventsPerSecond.toFixed(0)} events/s, ` +
      `rejected ${replay.rejected}, ${before === after ? 'changed nothing' : `CHANGED STATE: ${before} → ${after}`}`,
  );
  console.log(
    `SendGrid signature check (ECDSA P-256, one per POST, in this process): ${verification.microseconds.toFixed(0)} µs ` +
      `per POST of ${BATCH} events, so one core verifies at most ${verification.eventsPerSecond.toFixed(0)} events/s`,
  );
  console.log(`load average at the end: ${load1()}`);
  const updateRatio = sendgrid.eventsPerSecond / updates.sendgrid;
  const expressRatio = twilio.eventsPerSecond / bareTwilio.eventsPerSecond;
  const whole = (n: number) => Math.round(n).toLocaleString('en-GB');
  console.log(
    `webhooks: ${whole(sendgrid.eventsPerSecond)} SendGrid events/s (${updateRatio.toFixed(2)} × one-row UPDATE ` +
      `${whole(updates.sendgrid)}/s, goal ≥ 5,000/s and ≥ 0.5×; p99 ${sendgrid.p99.toFixed(0)} ms, goal < 100 ms); ` +
      `Twilio ${whole(twilio.eventsPerSecond)}/s (${expressRatio.toFixed(2)} × bare Express, goal ≥ 0.5×)`,
  );
  if (before !== after || unapplied[0]?.n !== 0 || sendgrid.rejected + twilio.rejected + replay.rejected > 0)
    process.exitCode = 1;
} finally {
  await Promise.all(
    [...deps.queues.all(), deps.portalQueue].map((queue) =>
      queue.obliterate({ force: true }).catch(() => undefined),
    ),
  );
  await deps.close();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}

/**
 * What verifying SendGrid's signature costs, as the web process does it for each POST: the same
 * bodies and headers, timed in this process on one core.
 */
function measureVerification(
  publicKey: string,
  posts: Post[],
): { microseconds: number; eventsPerSecond: number } {
  const sample = posts.slice(0, Math.min(posts.length, 2_000));
  const started = performance.now();
  for (const post of sample) {
    const verified = verifySendgridSignature({
      publicKey,
      rawBody: Buffer.from(post.body),
      signature: post.headers['X-Twilio-Email-Event-Webhook-Signature'],
      timestamp: post.headers['X-Twilio-Email-Event-Webhook-Timestamp'],
    });
    if (!verified) throw new Error('a benchmark receipt did not verify');
  }
  const microseconds = ((performance.now() - started) * 1000) / sample.length;
  const events = sample.reduce((sum, post) => sum + post.events, 0) / sample.length;
  return { microseconds, eventsPerSecond: (events * 1e6) / microseconds };
}
