import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { eventually, uniqueName } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import {
  startPrivatePostgres,
  startPrivateRedis,
  startCandorWeb,
  startWebProcess,
  startWorkerProcess,
  type PrivatePostgres,
  type PrivateRedis,
  type WebProcess,
  type WorkerProcess,
} from '../support/processes.js';
import {
  buildSendgridEvents,
  twilioCallbackHeaders,
  twilioMessageCallback,
  type FakeProviders,
} from '../fakes/provider-server.js';
import { parseConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { MESSAGE_ID_ARG } from '../../src/channels/sendgrid.js';

/** Per provider and per group of receipts (PostgreSQL up; PostgreSQL down; both down). */
const PER_GROUP = 10;
const GROUPS = ['up', 'held', 'refused'] as const;
type Group = (typeof GROUPS)[number];
/** Every fifth message fails (a bounce, an undelivered SMS), so fallbacks are exercised too. */
const FAILS_EVERY = 5;
const PUBLIC_BASE_URL = 'https://candor.receipts.example';

interface Receipt {
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Expected {
  messageId: number;
  status: string;
}

/**
 * Delivery receipts while PostgreSQL is down (DESIGN §3 "No receipt is lost"). Twilio never sends a
 * status callback twice, so a receipt refused during an outage is a person whose proof of notice
 * stays wrong for good. Candor runs as operators run it: a separate web process (which must not
 * exit) and a separate worker process, on private PostgreSQL and Redis servers this file stops and
 * starts. The receipts are signed by the fake providers' own code.
 */
describe('no delivery receipt is lost when PostgreSQL is down', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let fake: FakeProviders;
  let deps: Deps;
  let web: WebProcess;
  let env: Record<string, string>;
  /** What a test has stopped and not yet started again. */
  const down = { postgres: false, redis: false };
  const outage = {
    async postgres(on: boolean) {
      await (on ? postgres.halt() : postgres.startAgain());
      down.postgres = on;
    },
    async redis(on: boolean) {
      await (on ? redis.halt() : redis.startAgain());
      down.redis = on;
    },
  };
  let worker: WorkerProcess;
  let prefix: string;
  const receipts = new Map<Group, Receipt[]>();
  const expected = new Map<Group, Expected[]>();
  const contacts = new Map<Group, string[]>();

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    const providers = await startProviders();
    fake = providers.fake;
    // Receipts are posted by the test, at the moments it chooses.
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const logger = createLogger({ level: 'silent' });
    await migrate(postgres.url, logger);
    prefix = uniqueName('receipts');
    env = {
      ...providers.env,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      PUBLIC_BASE_URL,
      EMAIL_RATE_PER_SECOND: '10000',
      SMS_RATE_PER_SECOND: '10000',
      VOICE_RATE_PER_SECOND: '10000',
      // The reconciler stays out of the way: what is applied here is applied by the receipts path.
      RECONCILE_EVERY_SECONDS: '3600',
    };
    const config = parseConfig({ NODE_ENV: 'test', CALLING_HOURS: '00:00-24:00', ...env });
    deps = await createDeps(config, { logger });
    worker = startWorkerProcess(env);
    web = await startWebProcess(config, { ...providers.env, CALLING_HOURS: '00:00-24:00' });

    const incident = await makeIncident(deps);
    const people = GROUPS.flatMap((group) =>
      Array.from({ length: PER_GROUP }, (_, i) => [
        makePerson({ email: `${group}${i}@receipts.example`, phone: null }),
        makePerson({
          email: null,
          phone: `+4479${String(GROUPS.indexOf(group) * 100 + i).padStart(8, '0')}`,
        }),
      ]).flat(),
    );
    await makePeople(deps, incident.id, people);
    const campaign = await makeApprovedCampaign(deps, incident.id);
    await startCampaign(deps, { campaignId: campaign.id });
    const sent = await eventually(
      'every message to be sent',
      async () => {
        const { rows } = await deps.db.query<{ id: number; channel: string; provider_message_id: string }>(
          `SELECT id, channel, provider_message_id FROM messages
            WHERE campaign_id = $1 AND status = 'sent' ORDER BY id`,
          [campaign.id],
        );
        return rows.length === people.length ? rows : undefined;
      },
      60_000,
    );
    const requestById = new Map(fake.requests.map((request) => [request.providerMessageId, request]));
    let nth = 0;
    for (const message of sent) {
      const request = requestById.get(message.provider_message_id)!;
      const fails = ++nth % FAILS_EVERY === 0;
      if (message.channel === 'email') {
        // This message's personalization only: its request may carry others (SENDGRID_BATCH_SIZE).
        const email = fake.sendgridMessages.find(
          (m) => m.customArgs[MESSAGE_ID_ARG] === String(message.id),
        )!.to;
        const group = GROUPS.find((g) => email.startsWith(g))!;
        const events = ['processed', fails ? 'bounce' : 'delivered'].flatMap((status) =>
          buildSendgridEvents(request.body, message.provider_message_id, (to) =>
            to === email ? status : null,
          ),
        );
        const signed = fake.signSendgridEvents(events);
        add(
          group,
          { path: '/webhooks/sendgrid', ...signed },
          message.id,
          fails ? 'bounced' : 'delivered',
          email,
        );
      } else {
        const params = request.body as Record<string, string>;
        const phone = params.To ?? '';
        const group = GROUPS[Math.floor(Number(phone.slice(-8)) / 100)]!;
        const url = params.StatusCallback ?? '';
        for (const status of ['sent', fails ? 'undelivered' : 'delivered']) {
          const callback = twilioMessageCallback(
            TWILIO_ACCOUNT_SID,
            message.provider_message_id,
            params,
            status,
          );
          add(
            group,
            {
              path: url.slice(PUBLIC_BASE_URL.length),
              headers: twilioCallbackHeaders(TWILIO_AUTH_TOKEN, url, callback),
              body: new URLSearchParams(callback).toString(),
            },
            message.id,
            fails ? 'undelivered' : 'delivered',
            phone,
          );
        }
      }
    }
  }, 120_000);

  function add(group: Group, receipt: Receipt, messageId: number, status: string, contact: string) {
    receipts.set(group, [...(receipts.get(group) ?? []), receipt]);
    const mine = expected.get(group) ?? [];
    if (!mine.some((e) => e.messageId === messageId)) mine.push({ messageId, status });
    expected.set(group, mine);
    contacts.set(group, [...(contacts.get(group) ?? []), contact]);
  }

  afterAll(async () => {
    // Whatever a failed test left stopped comes back, so everything shuts down in order.
    if (down.redis) await outage.redis(false);
    if (down.postgres) await outage.postgres(false);
    await web?.stop();
    await worker?.stop();
    await deps?.close();
    await fake?.close();
    await redis?.stop();
    await postgres?.stop();
  }, 60_000);

  /** Posts receipts one after another, as a provider does, and returns each answer. */
  async function post(list: Receipt[], baseUrl = web.baseUrl) {
    const answers: { status: number; retryAfter: string | null }[] = [];
    for (const receipt of list) {
      const response = await fetch(baseUrl + receipt.path, {
        method: 'POST',
        headers: receipt.headers,
        body: receipt.body,
      });
      await response.arrayBuffer();
      answers.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
    }
    return answers;
  }

  async function statuses(group: Group) {
    const ids = expected.get(group)!.map((e) => e.messageId);
    const { rows } = await deps.db.query<{ id: number; status: string }>(
      'SELECT id, status FROM messages WHERE id = ANY($1::bigint[]) ORDER BY id',
      [ids],
    );
    return rows.map((row) => ({ messageId: row.id, status: row.status }));
  }

  const wanted = (group: Group) => [...expected.get(group)!].sort((a, b) => a.messageId - b.messageId);

  /**
   * What receipts change: the first messages in full, and how many messages there are (a replayed
   * failure must not plan a second fallback). The fallbacks' own sends are the worker's, not ours.
   */
  async function fingerprint() {
    const { rows } = await deps.db.query<{ first: string; messages: number; events: number }>(
      `SELECT (SELECT md5(string_agg(concat_ws('|', id, status, status_reason, sent_at, delivered_at, failed_at,
                                               updated_at, fallback), ',' ORDER BY id))
                 FROM messages WHERE attempt = 1) AS first,
              (SELECT count(*)::int FROM messages) AS messages,
              (SELECT count(*)::int FROM delivery_events) AS events`,
    );
    return rows[0];
  }

  /** Every value under this file's queue prefix, as text: what anyone reading Redis would see. */
  async function everythingInRedis(): Promise<string> {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      const values: string[] = [];
      for (const key of await client.keys(`${prefix}:*`)) {
        const type = await client.type(key);
        if (type === 'string') values.push((await client.get(key)) ?? '');
        else if (type === 'hash') values.push(JSON.stringify(await client.hgetall(key)));
        else if (type === 'list') values.push(...(await client.lrange(key, 0, -1)));
        else if (type === 'set') values.push(...(await client.smembers(key)));
        else if (type === 'zset') values.push(...(await client.zrange(key, '0', '-1')));
        else if (type === 'stream') values.push(JSON.stringify(await client.xrange(key, '-', '+')));
        values.push(key);
      }
      return values.join('\n');
    } finally {
      client.disconnect();
    }
  }

  it('applies receipts at once while PostgreSQL is up', async () => {
    const answers = await post(receipts.get('up')!);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 204));
    expect(await statuses('up')).toEqual(wanted('up'));
  });

  it('answers 2xx to every receipt while PostgreSQL is down, keeps them sealed in Redis, and applies them all when it returns', async () => {
    await outage.postgres(true);
    const answers = await post(receipts.get('held')!);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    expect(web.child.exitCode).toBeNull();

    const held = await deps.queues.receipts.getJobCounts('wait', 'active', 'delayed', 'failed');
    expect(held.wait! + held.active! + held.delayed!).toBeGreaterThan(0);
    expect(held.failed).toBe(0);
    const inRedis = await everythingInRedis();
    expect(inRedis).toContain('receipt-sendgrid-');
    for (const contact of contacts.get('held')!) expect(inRedis).not.toContain(contact);
    // The worker keeps trying while PostgreSQL is down, without spending the job's attempts.
    await eventually('the worker to have tried a held receipt more than once', async () => {
      const jobs = await deps.queues.receipts.getJobs(['wait', 'active', 'delayed', 'failed']);
      return jobs.some((job) => job.attemptsStarted >= 2) && jobs.every((job) => job.attemptsMade === 0);
    });

    await outage.postgres(false);
    const applied = await eventually(
      'every held receipt to be applied',
      async () => {
        const now = await statuses('held');
        return JSON.stringify(now) === JSON.stringify(wanted('held')) ? now : undefined;
      },
      30_000,
    );
    expect(applied).toEqual(wanted('held'));
    const { rows } = await deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE attempt = 1 AND status = 'sent'`,
    );
    expect(rows[0]!.n).toBe(PER_GROUP * 2);
    await eventually('the receipts queue to empty', async () => {
      const counts = await deps.queues.receipts.getJobCounts('wait', 'active', 'delayed', 'failed');
      return Object.values(counts).every((n) => n === 0);
    });
    expect(web.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  }, 60_000);

  it('answers 503 with Retry-After when Redis is down too, and takes the receipts when the provider retries', async () => {
    // The worker's part is done. It leaves first: a BullMQ worker that lived through a Redis outage may
    // not finish closing (taskforcesh/bullmq#4656), which is no part of this test.
    expect(await worker.stop()).toBe(0);
    await outage.postgres(true);
    await outage.redis(true);
    const refused = await post(receipts.get('refused')!);
    expect(refused.map((a) => a.status)).toEqual(refused.map(() => 503));
    for (const answer of refused) expect(answer.retryAfter).toMatch(/^\d+$/);
    // A web process started during the outage has never seen Redis ready: it must not wait for it either.
    const late = await startCandorWeb({ ...env, CALLING_HOURS: '00:00-24:00' });
    try {
      expect((await post(receipts.get('refused')!.slice(0, 2), late.baseUrl)).map((a) => a.status)).toEqual([
        503, 503,
      ]);
    } finally {
      await late.stop();
    }
    expect(web.child.exitCode).toBeNull();

    // SendGrid retries the same signed request later; PostgreSQL is back, Redis still is not.
    await outage.postgres(false);
    const retried = await post(receipts.get('refused')!);
    expect(retried.map((a) => a.status)).toEqual(retried.map(() => 204));
    expect(await statuses('refused')).toEqual(wanted('refused'));
    const { rows } = await deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE attempt = 1 AND status = 'sent'`,
    );
    expect(rows[0]!.n).toBe(0);
    await outage.redis(false);
    expect(web.child.exitCode).toBeNull();
  }, 60_000);

  it('changes nothing when every receipt is posted again', async () => {
    const before = await fingerprint();
    const all = GROUPS.flatMap((group) => receipts.get(group)!);
    const answers = await post(all);
    expect(answers.map((a) => a.status)).toEqual(all.map(() => 204));
    expect(await fingerprint()).toEqual(before);
  });
});
