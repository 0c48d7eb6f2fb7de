import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import { buildSendgridEvents, type FakeProviders } from '../fakes/provider-server.js';
import { startCampaign } from '../../src/campaigns/service.js';

const PEOPLE = 12;
/** Many batches over the same messages at once, each in its own order. */
const CONCURRENT_BATCHES = 16;

interface MessageRow {
  id: number;
  status: string;
  status_reason: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
}

type SendgridEvent = Record<string, unknown>;

/**
 * SendGrid posts receipts in batches; Candor stores and applies each batch set-based, in one
 * transaction (src/deliveries/store.ts recordProviderEvents). These tests hold it to what applying
 * the same receipts one at a time did: statuses only move forward, in the order posted; replays
 * (within a batch or across batches) change nothing; the live counters match the messages; batches
 * over the same messages at once neither deadlock nor lose a step; and one receipt PostgreSQL
 * refuses keeps none of the others from being applied.
 */
describe('SendGrid receipt batches, applied set-based', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  let campaignId: number;
  /** Our message id → the SendGrid request that sent it. */
  const sent = new Map<number, { body: unknown; xMessageId: string }>();

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    // Receipts come only from these tests, by hand.
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    ctx = await startTestContext({ workers: true, env: providers.env });
    const incident = await makeIncident(ctx.deps);
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: PEOPLE }, (_, i) => makePerson({ email: `batch${i}@example.com` })),
    );
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    campaignId = campaign.id;
    await startCampaign(ctx.deps, { campaignId });
    await eventually(
      'every message handed to the fake SendGrid',
      async () => {
        const rows = await statuses();
        return rows.length === PEOPLE && rows.every((row) => row.status === 'sent');
      },
      30_000,
    );
    for (const recorded of fake.requests.filter((r) => r.kind === 'sendgrid')) {
      for (const event of buildSendgridEvents(recorded.body, recorded.providerMessageId, 'processed'))
        sent.set(Number(event.candor_message_id), {
          body: recorded.body,
          xMessageId: recorded.providerMessageId,
        });
    }
  });

  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });

  async function statuses(): Promise<MessageRow[]> {
    const { rows } = await ctx.deps.db.query<MessageRow>(
      `SELECT id, status, status_reason, sent_at, delivered_at, failed_at FROM messages
       WHERE campaign_id = $1 AND channel = 'email' ORDER BY id`,
      [campaignId],
    );
    return rows;
  }

  /** SendGrid's event for one of our messages, as its Event Webhook would post it. */
  function eventFor(messageId: number, status: string, at: Date, extra: SendgridEvent = {}): SendgridEvent {
    const request = sent.get(messageId);
    if (!request) throw new Error(`message ${messageId} was not sent through the fake`);
    const events = buildSendgridEvents(request.body, request.xMessageId, status).filter(
      (event) => Number(event.candor_message_id) === messageId,
    );
    return { ...events[0], timestamp: Math.floor(at.getTime() / 1000), ...extra };
  }

  async function post(events: SendgridEvent[]) {
    const { body, headers } = fake.signSendgridEvents(events);
    return request(ctx.baseUrl).post('/webhooks/sendgrid').set(headers).send(body);
  }

  async function countersMatchMessages(): Promise<void> {
    const { rows } = await ctx.deps.db.query<{
      channel: string;
      status: string;
      counted: string;
      actual: string;
    }>(
      `WITH counted AS (
         SELECT channel, status, sum(n) AS n FROM campaign_message_counts WHERE campaign_id = $1 GROUP BY 1, 2),
       actual AS (
         SELECT COALESCE(channel, 'none') AS channel, status, count(*) AS n FROM messages WHERE campaign_id = $1 GROUP BY 1, 2)
       SELECT COALESCE(c.channel, a.channel) AS channel, COALESCE(c.status, a.status) AS status,
         COALESCE(c.n, 0)::text AS counted, COALESCE(a.n, 0)::text AS actual
       FROM counted c FULL JOIN actual a ON a.channel = c.channel AND a.status = c.status`,
      [campaignId],
    );
    for (const row of rows)
      expect({ ...row, counted: Number(row.counted) }).toEqual({ ...row, counted: Number(row.actual) });
  }

  it('applies a batch in order: forward only, replays ignored, stamps from the receipts that moved each message', async () => {
    const [a, b, c] = (await statuses()).map((row) => row.id);
    const t0 = new Date('2026-03-01T10:00:00Z');
    const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
    const duplicate = eventFor(c!, 'delivered', later(3));
    const batch = [
      eventFor(a!, 'processed', later(1)),
      eventFor(a!, 'delivered', later(2)),
      // Late and out of order: a 'processed' after 'delivered' changes nothing.
      eventFor(a!, 'processed', later(5)),
      eventFor(b!, 'bounce', later(4), { reason: '550 5.1.1 mailbox unknown' }),
      // After a bounce nothing moves the message on.
      eventFor(b!, 'delivered', later(6)),
      duplicate,
      duplicate,
    ];
    const first = await post(batch);
    expect(first.status).toBe(204);
    // The same batch again, as SendGrid retries: nothing changes, nothing is stored twice.
    const before = await statuses();
    expect((await post(batch)).status).toBe(204);
    expect(await statuses()).toEqual(before);

    const byId = new Map(before.map((row) => [row.id, row]));
    expect(byId.get(a!)).toMatchObject({ status: 'delivered', delivered_at: later(2) });
    expect(byId.get(b!)).toMatchObject({
      status: 'bounced',
      status_reason: '550 5.1.1 mailbox unknown',
      failed_at: later(4),
      delivered_at: null,
    });
    expect(byId.get(c!)).toMatchObject({ status: 'delivered', delivered_at: later(3) });
    const { rows } = await ctx.deps.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM delivery_events WHERE provider = 'sendgrid' AND provider_event_id = $1`,
      [duplicate.sg_event_id],
    );
    expect(Number(rows[0]!.n)).toBe(1);
    await countersMatchMessages();
  });

  it('applies batches over the same messages at once without deadlock, each message ending where its receipts say', async () => {
    const rest = (await statuses()).slice(3).map((row) => row.id);
    const at = new Date('2026-03-01T11:00:00Z');
    // Every batch carries 'processed' and 'delivered' for every message, in a different order; half
    // the messages also bounce in one batch only. Whatever order they are applied in, a message ends
    // 'delivered' or 'bounced' — whichever of the two came first in the batch applied first — and
    // every batch is answered 2xx.
    const bounced = new Set(rest.filter((_, i) => i % 2 === 0));
    const batches = Array.from({ length: CONCURRENT_BATCHES }, (_, n) => {
      const order = n % 2 === 0 ? rest : [...rest].reverse();
      return order.flatMap((id) => [
        eventFor(id, 'processed', at),
        ...(bounced.has(id) && n === 3 ? [eventFor(id, 'bounce', at, { reason: 'mailbox full' })] : []),
        eventFor(id, 'delivered', at),
      ]);
    });
    const answers = await Promise.all(batches.map((batch) => post(batch)));
    expect(answers.map((answer) => answer.status)).toEqual(batches.map(() => 204));
    for (const row of (await statuses()).slice(3)) {
      expect(['delivered', 'bounced']).toContain(row.status);
      expect(row.sent_at).not.toBeNull();
      if (row.status === 'delivered') expect(row.delivered_at).toEqual(at);
      else expect(bounced.has(row.id)).toBe(true);
    }
    await countersMatchMessages();
  });

  it('applies the rest of a batch when PostgreSQL refuses one receipt in it', async () => {
    const [good, bad] = (await statuses()).map((row) => row.id);
    // An event name with a NUL character: it verifies and parses, but PostgreSQL cannot store it.
    const refused = eventFor(bad!, 'open', new Date('2026-03-01T12:00:01Z'), { event: 'open\u0000' });
    const kept = eventFor(good!, 'open', new Date('2026-03-01T12:00:00Z'));
    const answer = await post([kept, refused]);
    // Not 2xx: SendGrid retries the batch, whose other receipts are replays by then.
    expect(answer.status).toBeGreaterThanOrEqual(400);
    const { rows } = await ctx.deps.db.query<{ provider_event_id: string }>(
      `SELECT provider_event_id FROM delivery_events WHERE provider = 'sendgrid' AND provider_event_id = ANY($1::text[])`,
      [[kept.sg_event_id, refused.sg_event_id]],
    );
    expect(rows).toEqual([{ provider_event_id: kept.sg_event_id }]);
  });
});
