import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrlForSchema, eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import { startWorkerProcess, type WorkerProcess } from '../support/processes.js';
import type { FakeProviders, RecordedRequest, SendgridMessage } from '../fakes/provider-server.js';
import { campaignProgress, startCampaign } from '../../src/campaigns/service.js';
import { MESSAGE_ID_ARG } from '../../src/channels/sendgrid.js';
import { reconcile } from '../../src/campaigns/reconcile.js';

/**
 * Email in batches (SENDGRID_BATCH_SIZE): a page's emails go to SendGrid in one request of up to
 * 1,000 personalizations. Counted on the fake's own record of what it accepted, one email per
 * personalization: everyone exactly once, whatever the provider or the worker does mid-batch.
 */
const BATCH_ENV = {
  SENDGRID_BATCH_SIZE: '1000',
  // A request holds what the pacer's 100 ms margin does: 909 emails at 10,000/s.
  EMAIL_RATE_PER_SECOND: '10000',
};

type Personalizations = { personalizations: { to: { email: string }[] }[] };
const personalizationsOf = (request: RecordedRequest) =>
  request.kind === 'sendgrid' ? ((request.body as Personalizations).personalizations ?? []) : [];

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe('email in batches (real workers, the SendGrid SDK against the fake)', () => {
  let ctx: TestContext;
  let fake: FakeProviders;

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    ctx = await startTestContext({ workers: true, env: { ...providers.env, ...BATCH_ENV } });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
  }, 60_000);
  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });

  async function messageRows(campaignId: number) {
    const { rows } = await ctx.deps.db.query<{
      id: number;
      person_id: number;
      attempt: number;
      channel: string | null;
      status: string;
      provider_message_id: string | null;
    }>(
      `SELECT id, person_id, attempt, channel, status, provider_message_id FROM messages
       WHERE campaign_id = $1 ORDER BY person_id, attempt`,
      [campaignId],
    );
    return rows;
  }

  it('sends 1,000 people in batches; a refused address fails alone and moves on; receipts map back', async () => {
    fake.setBehaviour(() => ({ reply: 'accept' }));
    const incident = await makeIncident(ctx.deps);
    const label = 'thousand';
    await makePeople(ctx.deps, incident.id, [
      ...Array.from({ length: 999 }, (_, i) => makePerson({ email: `${label}${i}@example.com` })),
      makePerson({ email: `${label} refused@example.com`, phone: '+447400555123' }),
    ]);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    // 999 delivered (receipts applied), the refused one followed by an SMS that is delivered too.
    await eventually(
      'the campaign to complete with every receipt applied',
      async () => {
        const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
        return progress.status === 'completed' && progress.totals.delivered === 1_000 ? progress : undefined;
      },
      60_000,
    );

    const mine = (m: SendgridMessage) => m.to.startsWith(label);
    const delivered = fake.sendgridMessages.filter(mine);
    expect(delivered).toHaveLength(999);
    expect([...countBy(delivered, (m) => m.to).values()].every((n) => n === 1)).toBe(true);
    expect(delivered.some((m) => m.to.includes('refused'))).toBe(false);
    // 909 and 91 (the pacer's margin at 10,000/s); the request holding the refused address was
    // refused whole, then went again without it.
    const requests = fake.requests.filter((r) =>
      personalizationsOf(r).some((p) => p.to[0]?.email.startsWith(label)),
    );
    const emailsOf = (r: RecordedRequest) => personalizationsOf(r).map((p) => p.to[0]?.email ?? '');
    const refused = requests.filter((r) => r.providerMessageId === '');
    const accepted = requests.filter((r) => r.providerMessageId !== '');
    expect(refused).toHaveLength(1);
    expect(emailsOf(refused[0]!)).toContain(`${label} refused@example.com`);
    expect(accepted.map((r) => personalizationsOf(r).length).sort((a, b) => b - a)).toEqual([909, 90]);
    expect(emailsOf(accepted.find((r) => r.receivedAt > refused[0]!.receivedAt)!)).toEqual(
      emailsOf(refused[0]!).filter((address) => !address.includes('refused')),
    );

    const rows = await messageRows(campaign.id);
    const email = rows.filter((row) => row.channel === 'email');
    expect(email.filter((row) => row.status === 'failed')).toHaveLength(1);
    const failed = email.find((row) => row.status === 'failed')!;
    expect(
      rows.filter((row) => row.person_id === failed.person_id).map((r) => [r.channel, r.status]),
    ).toEqual([
      ['email', 'failed'],
      ['sms', 'delivered'],
    ]);
    // Each personalization carried its own message id, and its receipt found that message.
    const byMessage = new Map(delivered.map((m) => [Number(m.customArgs[MESSAGE_ID_ARG]), m]));
    for (const row of email.filter((r) => r.status !== 'failed')) {
      expect(row.status).toBe('delivered');
      expect(row.provider_message_id).toBe(byMessage.get(row.id)?.xMessageId);
    }
    expect(byMessage.size).toBe(999);
    // The personal parts arrived per person: their own reference code in text and HTML.
    const sample = delivered[0]!;
    expect(sample.text).not.toMatch(/-cn[0-9a-f]{12}-/);
    expect(sample.html).not.toMatch(/-cn[0-9a-f]{12}-/);
  }, 90_000);

  it('sends a batch again after a 5xx, and each person exactly once', async () => {
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const incident = await makeIncident(ctx.deps);
    const label = 'fivexx';
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: 40 }, (_, i) => makePerson({ email: `${label}${i}@example.com` })),
    );
    fake.failNextSendgrid(1, 503);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually(
      'everyone sent after the retry',
      async () => {
        const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
        return progress.totals.sent === 40 ? progress : undefined;
      },
      60_000,
    );
    const requests = fake.requests.filter((r) =>
      personalizationsOf(r).some((p) => p.to[0]?.email.startsWith(label)),
    );
    expect(requests.map((r) => [personalizationsOf(r).length, r.providerMessageId !== ''])).toEqual([
      [40, false],
      [40, true],
    ]);
    const reached = fake.sendgridMessages.filter((m) => m.to.startsWith(label));
    expect(reached).toHaveLength(40);
    expect(new Set(reached.map((m) => m.to)).size).toBe(40);
  }, 90_000);

  it('puts back a batch job Redis lost, as a batch, and never queues its messages twice', async () => {
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const incident = await makeIncident(ctx.deps);
    const label = 'lostbatch';
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: 30 }, (_, i) => makePerson({ email: `${label}${i}@example.com` })),
    );
    await ctx.deps.queues.sendBatch.pause();
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually('the fan-out to queue everyone in one batch', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return p.fanoutComplete && p.totals.queued === 30;
    });
    // The reconciler, while the batch job lives, queues nothing: no job of their own for its messages.
    expect((await reconcile(ctx.deps)).requeued).toBe(0);
    const { rows } = await ctx.deps.db.query<{ id: number }>(
      'SELECT id FROM messages WHERE campaign_id = $1',
      [campaign.id],
    );
    const singles = await Promise.all(rows.map((row) => ctx.deps.queues.send.email.getJob(`send-${row.id}`)));
    expect(singles.filter(Boolean)).toHaveLength(0);

    // Redis loses the batch queue; the reconciler rebuilds it from PostgreSQL, as one batch.
    await ctx.deps.queues.sendBatch.obliterate({ force: true });
    expect((await reconcile(ctx.deps)).requeued).toBe(30);
    await ctx.deps.queues.sendBatch.resume();
    await eventually(
      'everyone sent from the rebuilt batch',
      async () => {
        const p = await campaignProgress(ctx.deps, { campaignId: campaign.id });
        return p.totals.sent === 30 ? p : undefined;
      },
      30_000,
    );
    const requests = fake.requests.filter((r) =>
      personalizationsOf(r).some((p) => p.to[0]?.email.startsWith(label)),
    );
    expect(requests.map((r) => personalizationsOf(r).length)).toEqual([30]);
    expect(fake.sendgridMessages.filter((m) => m.to.startsWith(label))).toHaveLength(30);
  }, 60_000);
});

describe('a worker killed while SendGrid holds its batch request open', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  let env: Record<string, string>;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    // No workers in this process: the batch runs in a worker process this test kills.
    ctx = await startTestContext({ env: { ...providers.env, ...BATCH_ENV } });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
    env = {
      ...providers.env,
      ...BATCH_ENV,
      DATABASE_URL: databaseUrlForSchema(ctx.schema),
      REDIS_URL: ctx.config.redisUrl,
      QUEUE_PREFIX: ctx.config.queuePrefix,
      PUBLIC_BASE_URL: ctx.baseUrl,
      RECONCILE_EVERY_SECONDS: '1',
      // The killed worker's batch job comes back after 2 s; its claims look abandoned after 5 s.
      WORKER_LOCK_SECONDS: '2',
      SEND_TIMEOUT_SECONDS: '5',
      PROVIDER_TIMEOUT_SECONDS: '4',
      UNKNOWN_LOOKUP_AFTER_SECONDS: '2',
    };
  }, 60_000);
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await ctx?.close();
    await fake?.close();
  }, 60_000);

  it('asks SendGrid before any resend, and everyone is reached exactly once', async () => {
    const incident = await makeIncident(ctx.deps);
    const label = 'killed';
    const people = 100;
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: people }, (_, i) => makePerson({ email: `${label}${i}@example.com` })),
    );
    // The first request is held open (then accepted: SendGrid has the messages); the rest at once.
    let held = false;
    fake.setBehaviour(() => {
      if (held) return { reply: 'accept', receipt: null };
      held = true;
      return { reply: 'accept', receipt: null, delayMs: 3_000 };
    });
    const first = startWorkerProcess(env);
    workers.push(first);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await fake
      .waitFor(
        (requests) =>
          requests.some((r) => personalizationsOf(r).some((p) => p.to[0]?.email.startsWith(label))),
        60_000,
      )
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\nworker output:\n${first.output().slice(-3_000)}`);
      });
    first.kill();
    // Another worker takes over: the batch job comes back to it, finds every claim held by a batch
    // and leaves them; its reconciler makes them `unknown` once abandoned and asks SendGrid.
    workers.push(startWorkerProcess(env));

    await eventually(
      "everyone recorded sent, from SendGrid's answer",
      async () => {
        const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
        return progress.totals.sent === people ? progress : undefined;
      },
      60_000,
    );
    const requests = fake.requests.filter((r) =>
      personalizationsOf(r).some((p) => p.to[0]?.email.startsWith(label)),
    );
    // One request, never sent again: the answer came from the lookup.
    expect(requests).toHaveLength(1);
    expect(fake.lookups.some((lookup) => lookup.kind === 'sendgrid')).toBe(true);
    const reached = fake.sendgridMessages.filter((m) => m.to.startsWith(label));
    expect(reached).toHaveLength(people);
    expect(new Set(reached.map((m) => m.to)).size).toBe(people);
    const { rows } = await ctx.deps.db.query<{ resends: number; provider_message_id: string | null }>(
      'SELECT resends, provider_message_id FROM messages WHERE campaign_id = $1',
      [campaign.id],
    );
    expect(rows.every((row) => row.resends === 0)).toBe(true);
    expect(new Set(rows.map((row) => row.provider_message_id))).toEqual(
      new Set([requests[0]!.providerMessageId]),
    );
  }, 120_000);

  it('hands back the rest of a batch on SIGTERM instead of pacing through it; the next worker sends it once', async () => {
    // Only this test's worker sends: the one left by the test before stops first.
    for (const worker of workers.splice(0)) await worker.stop();
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const incident = await makeIncident(ctx.deps);
    const label = 'stopped';
    const people = 100;
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: people }, (_, i) => makePerson({ email: `${label}${i}@example.com` })),
    );
    // 20 emails a second, one per request: the page's batch would take five seconds to pace through.
    const slow = { ...env, EMAIL_RATE_PER_SECOND: '20' };
    const first = startWorkerProcess(slow);
    workers.push(first);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await fake.waitFor(
      (requests) => requests.some((r) => personalizationsOf(r).some((p) => p.to[0]?.email.startsWith(label))),
      60_000,
    );
    await first.stop();

    const statuses = async () => {
      const { rows } = await ctx.deps.db.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY status',
        [campaign.id],
      );
      return Object.fromEntries(rows.map((row) => [row.status, row.n]));
    };
    // Stopped between requests: some sent, the rest queued again, nothing left in doubt.
    const afterStop = await statuses();
    expect(afterStop.queued ?? 0).toBeGreaterThan(0);
    expect(afterStop.sent ?? 0).toBeGreaterThan(0);
    expect(afterStop.sending ?? 0).toBe(0);
    expect(afterStop.unknown ?? 0).toBe(0);

    workers.push(startWorkerProcess(slow));
    await eventually(
      'everyone sent by the next worker',
      async () => ((await statuses()).sent === people ? true : undefined),
      60_000,
    );
    const reached = fake.sendgridMessages.filter((m) => m.to.startsWith(label));
    expect(reached).toHaveLength(people);
    expect(new Set(reached.map((m) => m.to)).size).toBe(people);
  }, 120_000);
});
