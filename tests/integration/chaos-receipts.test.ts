import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import {
  freePort,
  startCandorWeb,
  startPrivatePostgres,
  startPrivateRedis,
  startWorkerProcess,
  type CandorProcess,
  type PrivatePostgres,
  type PrivateRedis,
  type WorkerProcess,
} from '../support/processes.js';
import type { FakeOutcome, FakeProviders, RecordedRequest } from '../fakes/provider-server.js';
import { parseConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { startCampaign } from '../../src/campaigns/service.js';

/** Half the people have an email address, half only a phone: SendGrid and Twilio receipts both flow. */
const PEOPLE = 600;
/** How long a stopped service stays away: longer than any cache lifetime or retry a process keeps. */
const OUTAGE_MS = 20_000;

/**
 * Faults while delivery receipts arrive, the way they happen in production: a separate web process
 * (the real `npm run web`) takes the fake providers' signed receipts, two worker processes send, and
 * PostgreSQL or Redis goes away mid-campaign. Each case checks the web process never exited, each
 * person was reached exactly once, and every receipt the providers sent ended up applied: no message
 * left `sent` that the provider delivered.
 */
describe('receipts and sends through outages', () => {
  let redis: PrivateRedis;
  let postgres: PrivatePostgres;
  let fake: FakeProviders;
  let deps: Deps;
  let web: CandorProcess;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
    const providers = await startProviders();
    fake = providers.fake;
    await migrate(postgres.url, createLogger({ level: 'silent' }));
    const port = await freePort();
    const publicBaseUrl = `http://127.0.0.1:${port}`;
    fake.setSendgridWebhookUrl(`${publicBaseUrl}/webhooks/sendgrid`);
    const env = {
      ...providers.env,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniqueName('chaosr'),
      PUBLIC_BASE_URL: publicBaseUrl,
      SEND_CONCURRENCY: '10',
      EMAIL_RATE_PER_SECOND: '10000',
      SMS_RATE_PER_SECOND: '10000',
      RECONCILE_EVERY_SECONDS: '1',
      WORKER_LOCK_SECONDS: '3',
      SEND_TIMEOUT_SECONDS: '5',
      // Provider calls give up after 2 s; an unknown outcome is looked up after 3 s more, and a
      // message still 'sent' after 3 s is looked up in case its receipt was lost.
      PROVIDER_TIMEOUT_SECONDS: '2',
      UNKNOWN_LOOKUP_AFTER_SECONDS: '3',
      SENDGRID_ACTIVITY_LAG_SECONDS: '0',
      RECEIPT_LOOKUP_AFTER_SECONDS: '3',
    };
    deps = await createDeps(parseConfig({ NODE_ENV: 'test', ...env }), {
      logger: createLogger({ level: 'silent' }),
    });
    web = await startCandorWeb({ ...env, PORT: String(port) });
    workers.push(startWorkerProcess(env), startWorkerProcess(env));
    await eventually(
      'two worker processes to listen',
      async () => (await deps.queues.send.sms.getWorkers()).length >= 2,
      30_000,
    );
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await web?.stop();
    await deps?.close();
    await fake?.close();
    await redis?.stop();
    await postgres?.stop();
  }, 60_000);

  /** Whom a request is for: its first recipient, who decides what the fake does with the whole request. */
  function contactOf(request: RecordedRequest): string {
    if (request.kind === 'sendgrid')
      return (request.body as { personalizations: { to: { email: string }[] }[] }).personalizations[0]!.to[0]!
        .email;
    return (request.body as Record<string, string>).To ?? '';
  }

  /** Which person a request is for, and how many requests for them came before it. */
  type Attempt = { index: number | undefined; n: number };

  async function startMixedCampaign(
    label: string,
    number: number,
    behave?: (attempt: (request: RecordedRequest) => Attempt) => void,
  ) {
    const incident = await makeIncident(deps);
    const phone = (i: number) => `+44770${number}${String(i).padStart(6, '0')}`;
    await makePeople(
      deps,
      incident.id,
      Array.from({ length: PEOPLE }, (_, i) =>
        i % 2 === 0
          ? makePerson({ email: `${label}${i}@example.com`, phone: null })
          : makePerson({ email: null, phone: phone(i), timeZone: 'UTC' }),
      ),
    );
    const contacts = new Set(
      Array.from({ length: PEOPLE }, (_, i) => (i % 2 === 0 ? `${label}${i}@example.com` : phone(i))),
    );
    const index = new Map([...contacts].map((contact, i) => [contact, i]));
    const seen = new Map<string, number>();
    behave?.((request) => {
      const contact = contactOf(request);
      const n = seen.get(contact) ?? 0;
      seen.set(contact, n + 1);
      return { index: index.get(contact), n };
    });
    const campaign = await makeApprovedCampaign(deps, incident.id);
    // Everyone the providers accepted a message for: one per email personalization (batched or
    // not, SENDGRID_BATCH_SIZE), one per Twilio request.
    const accepted = () =>
      [
        ...fake.sendgridMessages.map((m) => m.to),
        ...fake.requests.filter((r) => r.kind !== 'sendgrid' && r.providerMessageId !== '').map(contactOf),
      ].filter((contact) => contacts.has(contact));
    await startCampaign(deps, { campaignId: campaign.id });
    return {
      campaign,
      accepted,
      reach: (n: number) => fake.waitFor(() => accepted().length >= n, 60_000),
    };
  }

  /** Every message of the campaign delivered: each receipt applied, whatever happened to its first post. */
  async function allDelivered(campaignId: number) {
    return eventually(
      'every message of the campaign to be delivered',
      async () => {
        const { rows } = await deps.db.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY status`,
          [campaignId],
        );
        const delivered = rows.find((row) => row.status === 'delivered')?.n ?? 0;
        if (delivered !== PEOPLE) throw new Error(`messages by status: ${JSON.stringify(rows)}`);
        return rows;
      },
      120_000,
    );
  }

  it.each([
    ['PostgreSQL restarts', 'restart', 1, () => postgres.restart()],
    [
      'PostgreSQL stops for 20 s',
      'pgstop',
      2,
      async () => {
        await postgres.halt();
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        await postgres.startAgain();
      },
    ],
    [
      'Redis stops for 20 s and comes back empty',
      'redisstop',
      3,
      async () => {
        await redis.halt();
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        await redis.startAgain();
      },
    ],
  ] as const)(
    'reaches everyone once and applies every receipt when %s mid-campaign',
    async (_what, label, number, disrupt) => {
      const run = await startMixedCampaign(label, number);
      await run.reach(PEOPLE * 0.3);
      await disrupt();

      await allDelivered(run.campaign.id);
      const accepted = run.accepted();
      expect(new Set(accepted).size).toBe(PEOPLE);
      expect(accepted.length - new Set(accepted).size).toBe(0);
      expect(web.child.exitCode).toBeNull();
    },
    240_000,
  );

  it('reaches everyone once and applies every receipt when provider calls hang past the time-out and are then accepted', async () => {
    const run = await startMixedCampaign('hang', 4, (send) => {
      // 2% of first requests hang twice the SDK's time-out, then are accepted (half with their
      // receipt, half without); 10% are delivered with the receipt lost.
      fake.setBehaviour((request): FakeOutcome => {
        const attempt = send(request);
        const delivered = { status: 'delivered' };
        if (attempt.index === undefined || attempt.n > 0) return { reply: 'accept', receipt: delivered };
        if (attempt.index % 50 === 0)
          return {
            reply: 'accept',
            delayMs: 4_000,
            receipt: delivered,
            postReceipt: attempt.index % 100 === 0,
          };
        return { reply: 'accept', receipt: delivered, postReceipt: attempt.index % 10 !== 5 };
      });
    });
    try {
      await allDelivered(run.campaign.id);
      const accepted = run.accepted();
      expect(new Set(accepted).size).toBe(PEOPLE);
      expect(accepted.length - new Set(accepted).size).toBe(0);
      // The hung sends were settled by asking the provider (or by their late receipt), not by sending again.
      expect(fake.lookups.length).toBeGreaterThan(0);
      const { rows } = await deps.db.query<{ resends: number }>(
        'SELECT coalesce(sum(resends), 0)::int AS resends FROM messages WHERE campaign_id = $1',
        [run.campaign.id],
      );
      expect(rows[0]!.resends).toBe(0);
      expect(web.child.exitCode).toBeNull();
    } finally {
      fake.setBehaviour(() => ({ reply: 'accept' }));
    }
  }, 240_000);
});
