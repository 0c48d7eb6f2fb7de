import crypto from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { createDeps, type Deps } from '../src/deps.js';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { campaignProgress, startCampaign } from '../src/campaigns/service.js';
import {
  startFakeProviders,
  type FakeOutcome,
  type RecordedRequest,
} from '../tests/fakes/provider-server.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../tests/support/factories.js';
import { startWorkerProcess, type WorkerProcess } from '../tests/support/processes.js';
import { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../tests/support/providers.js';
import { waitUntil } from './support/wait.js';

/**
 * What the provider sees of Candor's pacing, measured at the fake Twilio, with the SMS of a campaign
 * sent by separate worker processes (`npm run worker`, as operators run them):
 *  - steady: the most requests in any sliding second (and calendar second) against the configured
 *    rate, the rate achieved, and the headroom: how much longer than a second the shortest span
 *    holding rate + 1 requests was (the pacing margin left after the jitter actually seen);
 *  - retry-after: the first request is answered 429 with `Retry-After: 2`; how long the channel
 *    rested, and the rate after;
 *  - burst: the first 50 requests (BENCH_BURST; issue 11 had 200) are answered 429 without
 *    `Retry-After`, whenever they come; how long until they were all refused, and the rate after;
 *  - overload: the provider answers 429 without `Retry-After` to whatever arrives in its first 3 s,
 *    then takes everything: how soon and how fast sending resumes.
 *
 * The last line is the steady rate against the configured one (goal: exactly the configured rate,
 * never more in any sliding second), or the first scenario run if `steady` is not.
 *
 *   npm run bench provider-rate        (BENCH_RATE=50, BENCH_WORKERS=2, BENCH_MESSAGES=500)
 *   BENCH_SCENARIOS=steady npm run bench provider-rate     (any of steady,retry-after,burst)
 */
const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATE = Number(process.env.BENCH_RATE ?? 50);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 500);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? '20';
const BURST = Number(process.env.BENCH_BURST ?? 50);
const OVERLOAD_MS = 3_000;
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'steady,retry-after,burst').split(',');
/** One scenario's campaign: MESSAGES at RATE take seconds; far longer means sending has stalled. */
const CAMPAIGN_TIMEOUT_MS = Number(
  process.env.BENCH_CAMPAIGN_TIMEOUT_MS ?? Math.max(120_000, (MESSAGES / RATE) * 10_000),
);
/** What the last line reports: the steady scenario's rate and busiest sliding second. */
let summary = `provider-rate: no steady scenario run (scenarios ${SCENARIOS.join(', ')})`;

const suffix = crypto.randomBytes(4).toString('hex');
const schema = `bench_rate_${suffix}`;
const url = new URL(DATABASE_URL);
url.searchParams.set('options', `-c search_path=${schema}`);
const logger = createLogger({ level: 'silent' });

/** The most of `times` (sorted) in any half-open window of `windowMs` starting at one of them. */
function mostInWindow(times: number[], windowMs: number): number {
  let most = 0;
  let end = 0;
  for (let start = 0; start < times.length; start += 1) {
    while (end < times.length && times[end]! < times[start]! + windowMs) end += 1;
    most = Math.max(most, end - start);
  }
  return most;
}

function mostInCalendarSecond(times: number[]): number {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(Math.floor(t / 1000), (counts.get(Math.floor(t / 1000)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

/** The shortest span holding `count` consecutive requests. */
function shortestSpan(times: number[], count: number): number {
  let shortest = Infinity;
  for (let i = 0; i + count - 1 < times.length; i += 1) {
    shortest = Math.min(shortest, times[i + count - 1]! - times[i]!);
  }
  return shortest;
}

function ratePerSecond(times: number[]): number {
  if (times.length < 2) return 0;
  return ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!);
}

await migrate(url.toString(), logger, schema);
const fake = await startFakeProviders({
  twilioAccountSid: TWILIO_ACCOUNT_SID,
  twilioAuthToken: TWILIO_AUTH_TOKEN,
});
const env = {
  NODE_ENV: 'test',
  DATABASE_URL: url.toString(),
  REDIS_URL,
  QUEUE_PREFIX: schema,
  PUBLIC_BASE_URL: 'http://127.0.0.1:9',
  SEND_CONCURRENCY: CONCURRENCY,
  SMS_RATE_PER_SECOND: String(RATE),
  CALLING_HOURS: '00:00-24:00',
  RECONCILE_EVERY_SECONDS: '5',
  EMAIL_PROVIDER: 'sandbox',
  SMS_PROVIDER: 'twilio',
  VOICE_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN,
  TWILIO_API_BASE_URL: fake.baseUrl,
  TWILIO_FROM: '+15005550006',
};
const deps: Deps = await createDeps(parseConfig(env), { logger });
const workers: WorkerProcess[] = Array.from({ length: WORKERS }, () => startWorkerProcess(env));

/** Sends one SMS campaign to `people` people with the fake answering as `behaviour` says; the SMS requests' times. */
async function sendCampaign(
  scenario: number,
  people: number,
  behaviour: (request: RecordedRequest, index: number) => FakeOutcome,
): Promise<RecordedRequest[]> {
  const incident = await makeIncident(deps);
  await makePeople(
    deps,
    incident.id,
    Array.from({ length: people }, (_, i) =>
      makePerson({ email: null, phone: `+447400${scenario}${String(i).padStart(5, '0')}`, timeZone: 'UTC' }),
    ),
  );
  const campaign = await makeApprovedCampaign(deps, incident.id);
  fake.requests.splice(0);
  let index = 0;
  fake.setBehaviour((request) => {
    request.body = null;
    return behaviour(request, index++);
  });
  await startCampaign(deps, { campaignId: campaign.id });
  await waitUntil(
    `${people} SMS recorded sent`,
    async () => (await campaignProgress(deps, { campaignId: campaign.id })).byChannel.sms?.sent === people,
    CAMPAIGN_TIMEOUT_MS,
  );
  return fake.requests.filter((r) => r.kind === 'twilio-sms');
}

try {
  await waitUntil(
    `${WORKERS} worker processes on the SMS queue`,
    async () => (await deps.queues.send.sms.getWorkers()).length >= WORKERS,
    60_000,
  );
  console.log(
    `SMS at ${RATE}/s, ${WORKERS} worker processes × concurrency ${CONCURRENCY}, Redis ${REDIS_URL}, PostgreSQL ${url.host}`,
  );

  if (SCENARIOS.includes('steady')) {
    const steady = (await sendCampaign(1, MESSAGES, () => ({ reply: 'accept', receipt: null }))).map(
      (r) => r.receivedAt,
    );
    const span = shortestSpan(steady, RATE + 1);
    const achieved = ratePerSecond(steady);
    const busiest = mostInWindow(steady, 1000);
    summary =
      `provider-rate: ${achieved.toFixed(1)} SMS/s steady (${(achieved / RATE).toFixed(2)} × the configured ${RATE}/s, ` +
      `goal 1.00×; busiest sliding second ${busiest}, goal ≤ ${RATE})`;
    console.table({
      steady: {
        requests: steady.length,
        'max in a sliding second': mostInWindow(steady, 1000),
        'max in a calendar second': mostInCalendarSecond(steady),
        'achieved /s': Number(ratePerSecond(steady).toFixed(1)),
        [`shortest span of ${RATE + 1} (ms)`]: span,
      },
    });
  }
  if (SCENARIOS.includes('retry-after')) {
    const retryAfter = await sendCampaign(2, MESSAGES / 2, (_request, i) =>
      i === 0
        ? { reply: 'error', status: 429, headers: { 'Retry-After': '2' } }
        : { reply: 'accept', receipt: null },
    );
    const refusedAt = retryAfter[0]!.receivedAt;
    const after = retryAfter.slice(1).map((r) => r.receivedAt);
    console.table({
      'retry-after 2 s': {
        requests: retryAfter.length,
        'rested (ms)': (after[0] ?? NaN) - refusedAt,
        'max in a sliding second': mostInWindow([refusedAt, ...after], 1000),
        'achieved /s after': Number(ratePerSecond(after).toFixed(1)),
      },
    });
  }
  if (SCENARIOS.includes('burst')) {
    // Issue 11's burst: the provider refuses the first BURST requests whatever their timing.
    const burst = await sendCampaign(3, BURST + MESSAGES / 2, (_request, i) =>
      i < BURST ? { reply: 'error', status: 429 } : { reply: 'accept', receipt: null },
    );
    const times = burst.map((r) => r.receivedAt);
    const drained = times[BURST - 1]! - times[0]!;
    // A provider over its own limit for OVERLOAD_MS: it refuses whatever arrives meanwhile, then takes all.
    let overloadStart = 0;
    const overload = await sendCampaign(4, MESSAGES / 2, (request) => {
      overloadStart ||= request.receivedAt;
      return request.receivedAt < overloadStart + OVERLOAD_MS
        ? { reply: 'error', status: 429 }
        : { reply: 'accept', receipt: null };
    });
    const refused = overload.filter((r) => r.providerMessageId === '');
    const accepted = overload.filter((r) => r.providerMessageId !== '').map((r) => r.receivedAt);
    console.table({
      [`first ${BURST} refused (429, no Retry-After)`]: {
        requests: burst.length,
        '429s': BURST,
        'refusals took (s)': Number((drained / 1000).toFixed(1)),
        'first accepted after the last 429 (ms)': times[BURST]! - times[BURST - 1]!,
        'max in a sliding second': mostInWindow(times, 1000),
        'achieved /s after': Number(ratePerSecond(times.slice(BURST)).toFixed(1)),
      },
      [`provider overloaded ${OVERLOAD_MS / 1000} s (429, no Retry-After)`]: {
        requests: overload.length,
        '429s': refused.length,
        'refusals took (s)': Number(
          ((refused.at(-1)!.receivedAt - refused[0]!.receivedAt) / 1000).toFixed(1),
        ),
        'first accepted after the last 429 (ms)': accepted[0]! - refused.at(-1)!.receivedAt,
        'max in a sliding second': mostInWindow(
          overload.map((r) => r.receivedAt),
          1000,
        ),
        'achieved /s after': Number(ratePerSecond(accepted).toFixed(1)),
      },
    });
  }
} finally {
  await Promise.all(workers.map((worker) => worker.stop()));
  await Promise.all(
    deps.queues.all().map((queue) => queue.obliterate({ force: true }).catch(() => undefined)),
  );
  await deps.redis.del(...['email', 'sms', 'voice', 'letter'].map((channel) => `${schema}:pace:${channel}`));
  await deps.close();
  await fake.close();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
console.log(
  `load average ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);
console.log(summary);
process.exit(0);
