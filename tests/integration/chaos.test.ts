import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import {
  startPrivatePostgres,
  startPrivateRedis,
  startWorkerProcess,
  type PrivatePostgres,
  type PrivateRedis,
  type WorkerProcess,
} from '../support/processes.js';
import type { FakeProviders, SendgridMessage } from '../fakes/provider-server.js';
import { parseConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createApp } from '../../src/app.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { campaignProgress, startCampaign } from '../../src/campaigns/service.js';

const PEOPLE = 2_000;
const SEND_CONCURRENCY = 10;

/**
 * Crash a worker, flush Redis, restart PostgreSQL — each
 * in the middle of a campaign of a few thousand people — and check the fake provider's own record:
 * everyone reached, and duplicates no more than the sends in flight at a killed worker (none at all
 * for the flush and the restart; tests/integration/chaos-receipts.test.ts has the hanging provider). Private Redis and PostgreSQL servers, so nothing shared
 * with other test files is touched; a web app on loopback takes the signed receipts.
 *
 * Both email paths: batches (the default) and one email per request (SENDGRID_BATCH_SIZE=1). Counted
 * per person on the fake's record of what it accepted (one per personalization), whichever path.
 * In batches the email rate is what keeps the campaign going for seconds (2,000 people at 500/s, 45
 * to a request), so each disruption lands mid-campaign; one email per request, the send concurrency
 * does (the rate stays out of the way at 10,000/s).
 */
describe.each([
  // A SIGTERM lets every batch job in hand finish its page (2 processes × 4 jobs × 1,000 people), so
  // only a campaign larger than that is still going when the workers stop.
  { path: 'in batches', batchSize: '1000', emailRate: '500', termPeople: 10_000 },
  { path: 'one email per request', batchSize: '1', emailRate: '10000', termPeople: PEOPLE },
])('nothing lost when things break mid-campaign, email $path', ({ batchSize, emailRate, termPeople }) => {
  let redis: PrivateRedis;
  let postgres: PrivatePostgres;
  let fake: FakeProviders;
  let deps: Deps;
  let web: http.Server;
  let workerEnv: Record<string, string>;
  const workers: WorkerProcess[] = [];
  let connectionsPerProcess = 0;

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
    const providers = await startProviders();
    fake = providers.fake;
    // No receipts: the provider accepting a message is what this test counts.
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const logger = createLogger({ level: 'silent' });
    await migrate(postgres.url, logger);
    // Listen first: the receipts' URL (the public base URL) is only known once the port is.
    web = http.createServer();
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    fake.setSendgridWebhookUrl(`${baseUrl}/webhooks/sendgrid`);
    workerEnv = {
      ...providers.env,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniqueName('chaos'),
      PUBLIC_BASE_URL: baseUrl,
      SEND_CONCURRENCY: String(SEND_CONCURRENCY),
      SENDGRID_BATCH_SIZE: batchSize,
      EMAIL_RATE_PER_SECOND: emailRate,
      SMS_RATE_PER_SECOND: '10000',
      RECONCILE_EVERY_SECONDS: '1',
      // A killed worker's jobs come back after 3 s, and its half-done sends may go again after 5 s.
      WORKER_LOCK_SECONDS: '3',
      SEND_TIMEOUT_SECONDS: '5',
      // Provider calls give up after 2 s; an unknown outcome is looked up after 3 s more, and a
      // message still 'sent' after 3 s is looked up in case its receipt was lost.
      PROVIDER_TIMEOUT_SECONDS: '2',
      UNKNOWN_LOOKUP_AFTER_SECONDS: '3',
      RECEIPT_LOOKUP_AFTER_SECONDS: '3',
      // A killed batch's unsent emails are unknown, and SendGrid not listing them is believed after
      // 2 s (not the 30 minutes of a real account's lag), so they are sent within the test.
      SENDGRID_ACTIVITY_LAG_SECONDS: '2',
    };
    deps = await createDeps(parseConfig({ NODE_ENV: 'test', ...workerEnv }), { logger });
    web.on('request', createApp(deps));
    workers.push(startWorkerProcess(workerEnv));
    await eventually(
      'one worker process',
      async () => (connectionsPerProcess = (await deps.queues.send.email.getWorkers()).length) > 0,
      30_000,
    );
    workers.push(startWorkerProcess(workerEnv));
    await allWorkersListening();
  }, 120_000);

  /** Waits until every worker process in `workers` has connected to the email queue. */
  async function allWorkersListening() {
    await eventually(
      `${workers.length} worker processes to listen`,
      async () =>
        (await deps.queues.send.email.getWorkers()).length >= connectionsPerProcess * workers.length,
      30_000,
    );
  }

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await new Promise((resolve) => web?.close(resolve));
    web?.closeAllConnections();
    await deps?.close();
    await fake?.close();
    await redis?.stop();
    await postgres?.stop();
  }, 60_000);

  async function startBigCampaign(label: string, people = PEOPLE) {
    const incident = await makeIncident(deps);
    // In pages of 2,000: one INSERT holds at most 65,535 parameters.
    for (let start = 0; start < people; start += PEOPLE) {
      const size = Math.min(PEOPLE, people - start);
      await makePeople(
        deps,
        incident.id,
        Array.from({ length: size }, (_, i) => makePerson({ email: `${label}${start + i}@example.com` })),
      );
    }
    const campaign = await makeApprovedCampaign(deps, incident.id);
    const received = () => fake.sendgridMessages.filter((m) => m.to.startsWith(label));
    await startCampaign(deps, { campaignId: campaign.id });
    return {
      campaign,
      /** Every email the provider accepted for this campaign, one per person reached (or reached again). */
      received,
      /** Waits until the provider has accepted this many of the campaign's messages. */
      reach: (n: number) => fake.waitFor(() => received().length >= n, 60_000),
    };
  }

  async function finished(campaignId: number, people = PEOPLE) {
    return eventually(
      'the campaign to complete with everyone sent',
      async () => {
        const progress = await campaignProgress(deps, { campaignId });
        return progress.status === 'completed' && progress.totals.sent === people ? progress : undefined;
      },
      90_000,
    );
  }

  function tally(emails: SendgridMessage[]) {
    const to = emails.map((m) => m.to);
    const unique = new Set(to);
    return { reached: unique.size, duplicates: to.length - unique.size };
  }

  it('reaches everyone after a worker process is killed with SIGKILL mid-send, duplicating at most what it had in flight', async () => {
    const run = await startBigCampaign('kill');
    await run.reach(PEOPLE * 0.3);
    const victim = workers.shift()!;
    victim.kill();
    expect(run.received().length).toBeLessThan(PEOPLE);
    // Everything `sending` now is at most what the two workers had in flight when one died.
    const { rows } = await deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status = 'sending'`,
      [run.campaign.id],
    );
    const inFlightAtKill = rows[0]!.n;
    workers.push(startWorkerProcess(workerEnv));
    await allWorkersListening();

    await finished(run.campaign.id);
    const { reached, duplicates } = tally(run.received());
    expect(reached).toBe(PEOPLE);
    expect(duplicates).toBeLessThanOrEqual(Math.min(inFlightAtKill, SEND_CONCURRENCY));
  }, 120_000);

  it('finishes or hands back every send when the workers get SIGTERM mid-campaign, leaving nothing half-sent', async () => {
    const run = await startBigCampaign('term', termPeople);
    await run.reach(termPeople * 0.3);
    const stopping = workers.splice(0);
    const codes = await Promise.all(stopping.map((worker) => worker.stop()));
    expect(codes).toEqual([0, 0]);
    const { rows } = await deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status = 'sending'`,
      [run.campaign.id],
    );
    expect(rows[0]!.n).toBe(0);
    expect(run.received().length).toBeLessThan(termPeople);

    workers.push(startWorkerProcess(workerEnv), startWorkerProcess(workerEnv));
    await allWorkersListening();
    await finished(run.campaign.id, termPeople);
    const { reached, duplicates } = tally(run.received());
    expect(reached).toBe(termPeople);
    expect(duplicates).toBe(0);
  }, 180_000);

  it.each([
    ['Redis is flushed', 'flush', () => redis.flushAll()],
    ['PostgreSQL restarts', 'restart', () => postgres.restart()],
  ] as const)(
    'reaches everyone exactly once after %s mid-campaign',
    async (_what, label, disrupt) => {
      const run = await startBigCampaign(label);
      await run.reach(PEOPLE * 0.3);
      await disrupt();
      expect(run.received().length).toBeLessThan(PEOPLE);

      await finished(run.campaign.id);
      const { reached, duplicates } = tally(run.received());
      expect(reached).toBe(PEOPLE);
      expect(duplicates).toBe(0);
    },
    120_000,
  );
});
