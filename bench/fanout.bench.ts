import crypto from 'node:crypto';
import os from 'node:os';
import type { Job } from 'bullmq';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { makeFanoutProcessor } from '../src/campaigns/fanout.js';
import { planCampaign } from '../src/campaigns/service.js';
import type { FanoutJob } from '../src/queues.js';
import type { MessageKind } from '../src/notices/render.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../tests/support/factories.js';
import { withTimeout } from './support/wait.js';

/**
 * What "each person hears once" costs the fan-out: the same audience fanned out as a reminder (no
 * claim), as a first notice (each person claimed in `notice_claims`, with the triggers on messages),
 * and as a second first notice (everyone already held, so every claim conflicts and is skipped);
 * and how long the approval page's plan takes to count the audience. People per second, in one run,
 * on the same database; no send workers, so only the fan-out is timed (its send jobs go to Redis
 * under a prefix of their own, removed afterwards).
 *
 * The last line is the first notice's rate against the reminders' (goal: claiming each person costs
 * the fan-out at most half its speed, ≥ 0.5×).
 *
 *   npm run bench fanout                 (BENCH_FANOUT_PEOPLE=20000 by default)
 */
const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PEOPLE = Number(process.env.BENCH_FANOUT_PEOPLE ?? 20_000);
/** One fan-out or plan of PEOPLE: seconds here; far longer means it has stalled. */
const STEP_TIMEOUT_MS = Number(process.env.BENCH_STEP_TIMEOUT_MS ?? Math.max(120_000, PEOPLE * 10));

const schema = `bench_fanout_${crypto.randomBytes(4).toString('hex')}`;
const url = new URL(DATABASE_URL);
url.searchParams.set('options', `-c search_path=${schema}`);
const logger = createLogger({ level: 'silent' });
await migrate(url.toString(), logger, schema);
const config = parseConfig({
  NODE_ENV: 'test',
  DATABASE_URL: url.toString(),
  REDIS_URL,
  QUEUE_PREFIX: schema,
  CALLING_HOURS: '00:00-24:00',
});
const deps = await createDeps(config, { logger });
try {
  const incident = await makeIncident(deps);
  for (let i = 0; i < PEOPLE; i += 1_000) {
    await makePeople(
      deps,
      incident.id,
      Array.from({ length: Math.min(1_000, PEOPLE - i) }, (_, j) =>
        makePerson({ email: `p${i + j}@bench.example` }),
      ),
    );
  }
  const fanout = makeFanoutProcessor(deps);

  async function timeFanout(
    kind: MessageKind,
  ): Promise<{ seconds: number; people: number; skipped: number }> {
    const campaign = await makeApprovedCampaign(deps, incident.id, { kind, audience: 'affected' });
    await deps.db.query("UPDATE campaigns SET status = 'sending' WHERE id = $1", [campaign.id]);
    const job = { data: { v: 1, campaignId: campaign.id }, updateProgress: () => Promise.resolve() };
    const started = performance.now();
    const result = await withTimeout(
      `the ${kind} fan-out of ${PEOPLE} people`,
      fanout(job as unknown as Job<FanoutJob>),
      STEP_TIMEOUT_MS,
    );
    return { seconds: (performance.now() - started) / 1000, ...result };
  }

  const planned = await makeApprovedCampaign(deps, incident.id);
  const planStarted = performance.now();
  const plan = await withTimeout(
    'the approval plan',
    planCampaign(deps, { campaignId: planned.id }),
    STEP_TIMEOUT_MS,
  );
  const planSeconds = (performance.now() - planStarted) / 1000;

  const runs: [string, Awaited<ReturnType<typeof timeFanout>>][] = [];
  runs.push(['reminder (no claim)', await timeFanout('reminder')]);
  runs.push(['first notice (claims)', await timeFanout('initial_notice')]);
  runs.push(['reminder again (no claim)', await timeFanout('reminder')]);
  runs.push(['second first notice (all held)', await timeFanout('initial_notice')]);

  console.log(`fan-out of ${PEOPLE} people, PostgreSQL ${url.host}, Redis ${new URL(REDIS_URL).host}`);
  console.log(`approval plan: ${plan.people} people counted in ${planSeconds.toFixed(2)} s`);
  const baseline = (runs[0]![1].seconds + runs[2]![1].seconds) / 2;
  for (const [name, run] of runs) {
    console.log(
      `${name.padEnd(32)} ${run.seconds.toFixed(2)} s  ${Math.round(PEOPLE / run.seconds)} people/s  ` +
        `written ${run.people}, skipped ${run.skipped}  (${(baseline / run.seconds).toFixed(2)}× the reminders' mean rate)`,
    );
  }
  const first = runs[1]![1];
  console.log(
    `load average ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `fanout: ${Math.round(PEOPLE / first.seconds)} people/s for a first notice (${(baseline / first.seconds).toFixed(2)} × ` +
      `the reminders' ${Math.round(PEOPLE / baseline)} people/s, goal ≥ 0.5×)`,
  );
} finally {
  await Promise.all(
    deps.queues.all().map((queue) => queue.obliterate({ force: true }).catch(() => undefined)),
  );
  await deps.close();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
