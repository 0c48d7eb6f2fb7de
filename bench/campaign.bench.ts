import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { createWorkers } from '../workers/index.js';
import { campaignProgress, startCampaign } from '../src/campaigns/service.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../tests/support/factories.js';
import { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../tests/support/providers.js';
import { waitUntil, withTimeout } from './support/wait.js';

/**
 * Campaign throughput, end to end: fan-out → send worker → official SendGrid SDK → fake provider
 * (accepted) → status recorded in PostgreSQL, at several audience sizes, beside bare BullMQ no-op
 * jobs/s measured in the same run on the same Redis with the same concurrency. Each size runs in a
 * fresh process so its peak RSS is its own. Everything lives under its own queue prefix and
 * database schema, removed afterwards.
 *
 *   npm run bench campaign                 (BENCH_SIZES=10000,100000 by default)
 *   BENCH_SIZES=2000 npm run bench campaign
 *   BENCH_MILLION=1 npm run bench campaign (adds 1,000,000 people: long, mostly creating them)
 *   BENCH_SENDGRID_BATCH_SIZE=1 npm run bench campaign   (one email per request, as before batching)
 *
 * Emails go in SendGrid batches (SENDGRID_BATCH_SIZE 1,000) at EMAIL_RATE_PER_SECOND 10,000, the
 * most the configuration allows: at that rate a request holds 909 emails (the pacer's margin).
 */
const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SIZES = [
  ...(process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number),
  ...(process.env.BENCH_MILLION === '1' ? [1_000_000] : []),
];
const BATCH_SIZE = process.env.BENCH_SENDGRID_BATCH_SIZE ?? '1000';
const NOOP_JOBS = Number(process.env.BENCH_NOOP_JOBS ?? 50_000);
/** One campaign, from start to every message recorded; generous even for 100,000 people on a loaded machine. */
const CAMPAIGN_TIMEOUT_MS = Number(process.env.BENCH_CAMPAIGN_TIMEOUT_MS ?? 900_000);

const self = fileURLToPath(import.meta.url);
const tsx = path.join(path.dirname(self), '../node_modules/.bin/tsx');
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const suffix = () => crypto.randomBytes(4).toString('hex');

interface CampaignResult {
  people: number;
  seconds: number;
  perSecond: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

/** Bare BullMQ: add jobs in bulk, a worker completes each doing nothing. Jobs/s from first add to last completion. */
async function measureNoop(jobs: number): Promise<number> {
  const prefix = `bench_noop_${suffix()}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  let done = 0;
  let resolveDone = () => {};
  const allDone = new Promise<void>((resolve) => (resolveDone = resolve));
  const worker = new Worker('noop', () => Promise.resolve(undefined), {
    connection,
    prefix,
    concurrency: CONCURRENCY,
  });
  worker.on('completed', () => {
    if (++done === jobs) resolveDone();
  });
  await worker.waitUntilReady();
  const started = performance.now();
  for (let i = 0; i < jobs; i += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, jobs - i) }, (_, j) => ({
        name: 'noop',
        data: { v: 1, id: i + j },
        opts: { jobId: `noop-${i + j}`, removeOnComplete: true },
      })),
    );
  }
  await withTimeout(`${jobs} no-op jobs to complete`, allDone, 300_000);
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return jobs / seconds;
}

async function startFake(): Promise<{ child: ChildProcess; baseUrl: string; publicKey: string }> {
  const child = spawn(tsx, [path.join(path.dirname(self), 'support/fake-providers.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await withTimeout(
    'the fake providers to start',
    new Promise<string>((resolve) => readline.createInterface({ input: child.stdout }).once('line', resolve)),
    60_000,
  );
  const { baseUrl, sendgridWebhookPublicKey } = JSON.parse(line) as {
    baseUrl: string;
    sendgridWebhookPublicKey: string;
  };
  return { child, baseUrl, publicKey: sendgridWebhookPublicKey };
}

function benchConfig(databaseUrl: string, schema: string, fakeUrl: string, publicKey: string) {
  return parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: schema,
    SEND_CONCURRENCY: String(CONCURRENCY),
    EMAIL_RATE_PER_SECOND: '10000',
    RECONCILE_EVERY_SECONDS: '10',
    EMAIL_PROVIDER: 'sendgrid',
    SENDGRID_BATCH_SIZE: BATCH_SIZE,
    SENDGRID_API_KEY: 'SG.bench',
    SENDGRID_API_BASE_URL: fakeUrl,
    SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey,
    SMS_PROVIDER: 'twilio',
    VOICE_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_API_BASE_URL: fakeUrl,
    TWILIO_FROM: '+15005550006',
  });
}

/**
 * Writes the incident, its people and an approved campaign, in a process of its own: what creating
 * them leaves in memory must not count towards the campaign's peak RSS. Returns the campaign's id.
 */
async function setUp(people: number, databaseUrl: string, schema: string): Promise<number> {
  const deps = await createDeps(benchConfig(databaseUrl, schema, 'http://127.0.0.1:9', 'unused'), {
    logger: createLogger({ level: 'silent' }),
  });
  try {
    const incident = await makeIncident(deps);
    for (let i = 0; i < people; i += 1_000) {
      await makePeople(
        deps,
        incident.id,
        Array.from({ length: Math.min(1_000, people - i) }, (_, j) =>
          makePerson({ email: `p${i + j}@bench.example` }),
        ),
      );
    }
    return (await makeApprovedCampaign(deps, incident.id)).id;
  } finally {
    await deps.close();
  }
}

async function runSetUp(people: number, databaseUrl: string, schema: string): Promise<number> {
  const child = spawn(tsx, [self, '--setup', String(people), databaseUrl, schema], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await withTimeout(
    `the ${people} people to be written`,
    new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).on('line', (l) => {
        if (l.startsWith('SETUP ')) resolve(l.slice(6));
      });
      child.once('exit', (code) => reject(new Error(`the set-up process exited with ${code}`)));
    }),
    CAMPAIGN_TIMEOUT_MS,
  );
  return Number(line);
}

/** One size, in this process: set up, then time the campaign from start to every message recorded sent. */
async function measureCampaign(people: number): Promise<CampaignResult> {
  const schema = `bench_${suffix()}`;
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const logger = createLogger({ level: 'silent' });
  await migrate(url.toString(), logger, schema);
  const fake = await startFake();
  const config = benchConfig(url.toString(), schema, fake.baseUrl, fake.publicKey);
  const deps = await createDeps(config, { logger });
  try {
    const campaign = { id: await runSetUp(people, url.toString(), schema) };
    const workers = createWorkers(deps);
    await Promise.all(workers.workers.map((worker) => worker.waitUntilReady()));
    global.gc?.();

    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const before = process.memoryUsage();
    let atPeak = before;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      if (now.rss > peak) [peak, atPeak] = [now.rss, now];
    }, 100);
    const started = performance.now();
    await startCampaign(deps, { campaignId: campaign.id });
    await waitUntil(
      `all ${people} messages to be recorded sent`,
      async () => {
        const progress = await campaignProgress(deps, { campaignId: campaign.id });
        return progress.totals.sent + progress.reached >= people;
      },
      CAMPAIGN_TIMEOUT_MS,
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    // Where the memory is: V8's heap (used/reserved) and what lives outside it, before and at the peak.
    console.log(
      `before: heap ${mb(before.heapUsed)}/${mb(before.heapTotal)} MB, external ${mb(before.external)} MB; at peak: heap ${mb(atPeak.heapUsed)}/${mb(atPeak.heapTotal)} MB, external ${mb(atPeak.external)} MB, array buffers ${mb(atPeak.arrayBuffers)} MB`,
    );
    await workers.close();
    return { people, seconds, perSecond: people / seconds, rssBeforeMb: mb(rssBefore), peakRssMb: mb(peak) };
  } finally {
    await Promise.all(
      deps.queues.all().map((queue) => queue.obliterate({ force: true }).catch(() => undefined)),
    );
    await deps.close();
    fake.child.kill('SIGTERM');
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

async function runSize(people: number): Promise<CampaignResult> {
  // --expose-gc: the setup's garbage (creating the people) is collected before RSS is sampled.
  // BENCH_CPU_PROF=dir writes a CPU profile of each size's process there.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(tsx, ['--expose-gc', ...profile, self, '--size', String(people)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let result: CampaignResult | null = null;
  for await (const line of readline.createInterface({ input: child.stdout })) {
    if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as CampaignResult;
    else console.log(line);
  }
  if (!result) throw new Error(`the ${people}-person run printed no result`);
  return result;
}

if (process.argv[2] === '--setup') {
  const [people, databaseUrl, schema] = process.argv.slice(3);
  console.log(`SETUP ${await setUp(Number(people), databaseUrl!, schema!)}`);
  process.exit(0);
}

if (process.argv[2] === '--size') {
  const result = await measureCampaign(Number(process.argv[3]));
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}

console.log(
  `Redis ${REDIS_URL}, PostgreSQL ${new URL(DATABASE_URL).host}, concurrency ${CONCURRENCY}, one worker process`,
);
const noop = await measureNoop(NOOP_JOBS);
console.log(`bare BullMQ no-op: ${Math.round(noop)} jobs/s (${NOOP_JOBS} jobs)`);
const rows = [];
for (const size of SIZES) {
  const result = await runSize(size);
  rows.push({
    people: result.people,
    seconds: Number(result.seconds.toFixed(1)),
    'messages/s': Math.round(result.perSecond),
    'ratio to no-op': Number((result.perSecond / noop).toFixed(2)),
    'RSS before (MB)': result.rssBeforeMb,
    'peak RSS (MB)': result.peakRssMb,
  });
  console.log(
    `campaign of ${size}: ${Math.round(result.perSecond)} messages/s, peak RSS ${result.peakRssMb} MB`,
  );
}
console.table(rows);
console.log(
  `load average ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}; SENDGRID_BATCH_SIZE ${BATCH_SIZE}`,
);
const last = rows[rows.length - 1]!;
const label = last.people >= 1_000_000 ? `${last.people / 1_000_000}M` : `${last.people / 1_000}k`;
console.log(
  `campaign: ${last['messages/s']} msgs/s at ${label} (${last['ratio to no-op']} × bare BullMQ no-op ` +
    `${Math.round(noop)} jobs/s, goal ≥ 0.5×; peak RSS ${Math.max(...rows.map((r) => r['peak RSS (MB)']))} MB, goal < 200 MB)`,
);
