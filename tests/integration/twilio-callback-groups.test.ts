import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestContext,
  TEST_REDIS_URL,
  uniqueName,
  type TestContext,
} from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/processes.js';
import {
  twilioCallbackHeaders,
  twilioMessageCallback,
  type FakeProviders,
} from '../fakes/provider-server.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { parseConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { createReceiptGrouper, makeReceiptProcessor } from '../../src/deliveries/receipts.js';
import { parseTwilioStatus } from '../../src/channels/twilio.js';
import type { ReceiptJob } from '../../src/queues.js';
import type { Job } from 'bullmq';

const PEOPLE = 16;
/** Every fourth SMS is undelivered, so fallbacks are planned from grouped receipts too. */
const FAILS_EVERY = 4;

interface Callback {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Twilio posts one status per request; the callbacks that arrive together are stored and applied in
 * one transaction (src/deliveries/receipts.ts createReceiptGrouper). These tests hold the grouped
 * path to what one request at a time did: each request is answered only once its own receipt is
 * stored, statuses only move forward whatever the order, replays change nothing, one bad callback
 * fails none of its neighbours, and with PostgreSQL gone each receipt is held in the receipts queue,
 * under the job id it would have had alone, and applied when PostgreSQL returns.
 */
describe('Twilio status callbacks, applied in groups', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  let campaignId: number;
  /** Our message id → what the fake Twilio was asked (its parameters) and the sid it gave. */
  const sent = new Map<number, { params: Record<string, string>; sid: string }>();

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    ctx = await startTestContext({ workers: true, env: { ...providers.env, CALLING_HOURS: '00:00-24:00' } });
    const incident = await makeIncident(ctx.deps);
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: PEOPLE }, (_, i) =>
        makePerson({ email: null, phone: `+4479${String(500 + i).padStart(8, '0')}` }),
      ),
    );
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    campaignId = campaign.id;
    await startCampaign(ctx.deps, { campaignId });
    const rows = await eventually(
      'every SMS handed to the fake Twilio',
      async () => {
        const { rows } = await ctx.deps.db.query<{ id: number; status: string; provider_message_id: string }>(
          `SELECT id, status, provider_message_id FROM messages WHERE campaign_id = $1 AND attempt = 1 ORDER BY id`,
          [campaignId],
        );
        return rows.length === PEOPLE && rows.every((row) => row.status === 'sent') ? rows : undefined;
      },
      30_000,
    );
    const bySid = new Map(fake.requests.map((request) => [request.providerMessageId, request]));
    for (const row of rows) {
      const request = bySid.get(row.provider_message_id);
      if (!request) throw new Error(`message ${row.id}: no request at the fake Twilio`);
      sent.set(row.id, { params: request.body as Record<string, string>, sid: row.provider_message_id });
    }
  });

  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });

  function callback(messageId: number, status: string, change: Record<string, string> = {}): Callback {
    const message = sent.get(messageId)!;
    const url = message.params.StatusCallback!;
    const params = {
      ...twilioMessageCallback(TWILIO_ACCOUNT_SID, message.sid, message.params, status),
      ...change,
    };
    const target = new URL(url);
    return {
      path: target.pathname + target.search,
      headers: twilioCallbackHeaders(TWILIO_AUTH_TOKEN, url, params),
      body: new URLSearchParams(params).toString(),
    };
  }

  async function post(one: Callback): Promise<number> {
    const response = await fetch(`${ctx.baseUrl}${one.path}`, {
      method: 'POST',
      headers: { ...one.headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: one.body,
    });
    await response.arrayBuffer();
    return response.status;
  }

  async function firstAttempts() {
    const { rows } = await ctx.deps.db.query<{ id: number; status: string; fallback: string | null }>(
      `SELECT id, status, fallback FROM messages WHERE campaign_id = $1 AND attempt = 1 ORDER BY id`,
      [campaignId],
    );
    return rows;
  }

  async function countersMatchMessages(): Promise<void> {
    const { rows } = await ctx.deps.db.query<{ status: string; counted: number; actual: number }>(
      `SELECT s.status, COALESCE(k.n, 0)::int AS counted, COALESCE(a.n, 0)::int AS actual
       FROM (SELECT DISTINCT status FROM messages WHERE campaign_id = $1
             UNION SELECT DISTINCT status FROM campaign_message_counts WHERE campaign_id = $1) s
       LEFT JOIN (SELECT status, sum(n) AS n FROM campaign_message_counts WHERE campaign_id = $1 GROUP BY 1) k USING (status)
       LEFT JOIN (SELECT status, count(*) AS n FROM messages WHERE campaign_id = $1 GROUP BY 1) a USING (status)`,
      [campaignId],
    );
    for (const row of rows) expect(row.counted, row.status).toBe(row.actual);
  }

  it('applies many concurrent callbacks, out of order and replayed, as one at a time would', async () => {
    const ids = [...sent.keys()];
    const fails = new Set(ids.filter((_, i) => i % FAILS_EVERY === 0));
    // Every message's final status before its `sent`, every callback twice, all at once.
    const callbacks = ids.flatMap((id) => [
      callback(id, fails.has(id) ? 'undelivered' : 'delivered', fails.has(id) ? { ErrorCode: '30003' } : {}),
      callback(id, 'sent'),
    ]);
    const answers = await Promise.all([...callbacks, ...callbacks.reverse()].map(post));
    expect(answers.every((status) => status === 204)).toBe(true);

    // Answered means stored: no waiting here.
    const rows = await firstAttempts();
    for (const row of rows)
      expect([row.id, row.status]).toEqual([row.id, fails.has(row.id) ? 'undelivered' : 'delivered']);
    const { rows: events } = await ctx.deps.db.query<{ n: number; distinct_ids: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT provider_event_id)::int AS distinct_ids
       FROM delivery_events WHERE provider = 'twilio'`,
    );
    expect(events[0]).toEqual({ n: 2 * PEOPLE, distinct_ids: 2 * PEOPLE });
    // Each failure followed up exactly once, and the counters agree with the rows.
    for (const row of rows) expect(row.fallback).toBe(fails.has(row.id) ? 'next' : null);
    const { rows: seconds } = await ctx.deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND attempt = 2`,
      [campaignId],
    );
    expect(seconds[0]!.n).toBe(fails.size);
    await countersMatchMessages();

    // A late `sent` posted again on its own changes nothing.
    const before = JSON.stringify(await firstAttempts());
    expect(await Promise.all(ids.map((id) => post(callback(id, 'sent'))))).toEqual(ids.map(() => 204));
    expect(JSON.stringify(await firstAttempts())).toBe(before);
  });

  it('answers a bad callback on its own, and applies the good ones posted with it', async () => {
    // A fresh campaign's worth of messages is not needed: `read` moves a delivered SMS nowhere, so
    // the good ones here are new events (stored) that change no status; the bad ones must not stop them.
    const ids = [...sent.keys()];
    const good = ids.map((id) => callback(id, 'read'));
    // Signed correctly, but PostgreSQL refuses its event id (a NUL character): the group it lands
    // in fails, and every callback in it is then received on its own.
    const refused = callback(ids[0]!, 'read', {
      MessageSid: `SM\u0000${crypto.randomBytes(4).toString('hex')}`,
    });
    // Signed, but no status at all: refused before it joins any group.
    const malformed = callback(ids[1]!, 'sent', { MessageStatus: '' });
    const answers = await Promise.all([refused, ...good, malformed].map(post));
    expect(answers[0]).toBe(400);
    expect(answers.at(-1)).toBe(400);
    expect(answers.slice(1, -1)).toEqual(good.map(() => 204));
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_events WHERE provider = 'twilio' AND event = 'read'`,
    );
    expect(rows[0]!.n).toBe(ids.length);
    await countersMatchMessages();
  });
});

describe('Twilio status callbacks in a group while PostgreSQL is down', () => {
  let postgres: PrivatePostgres;
  let deps: Deps;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    const logger = createLogger({ level: 'silent' });
    await migrate(postgres.url, logger);
    deps = await createDeps(
      parseConfig({
        NODE_ENV: 'test',
        DATABASE_URL: postgres.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueName('groups'),
      }),
      { logger },
    );
  });

  afterAll(async () => {
    await Promise.all(
      deps.queues.all().map((queue) => queue.obliterate({ force: true }).catch(() => undefined)),
    );
    await deps?.close();
    await postgres?.stop();
  });

  it('holds each receipt of a failed group on its own, and applies them all once PostgreSQL is back', async () => {
    const receive = createReceiptGrouper(deps);
    const events = Array.from({ length: 12 }, (_, i) =>
      parseTwilioStatus(null, { MessageSid: `SMgroup${i}`, MessageStatus: 'delivered' }),
    );
    await postgres.halt();
    let outcomes: string[];
    try {
      outcomes = await Promise.all(events.map((event) => receive(event)));
    } finally {
      await postgres.startAgain();
    }
    expect(outcomes).toEqual(events.map(() => 'held'));
    const jobs = await deps.queues.receipts.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.data.events).sort()).toEqual(events.map(() => 1));
    expect(jobs).toHaveLength(events.length);

    // As the receipts worker does once PostgreSQL answers again (the pool's first connections may
    // still be the ones the halt cut: the worker would retry the job, so this does too).
    const apply = makeReceiptProcessor(deps);
    const ids = await eventually(
      'the held receipts to be applied',
      async () => {
        for (const job of jobs) await apply(job as Job<ReceiptJob>).catch(() => undefined);
        const { rows } = await deps.db.query<{ id: string }>(
          `SELECT provider_event_id AS id FROM delivery_events ORDER BY 1`,
        );
        return rows.length === events.length ? rows.map((row) => row.id) : undefined;
      },
      30_000,
    );
    expect(ids).toEqual(events.map((event) => event.providerEventId).sort());
  });
});
