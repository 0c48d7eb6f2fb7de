import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeStaff } from '../support/factories.js';
import { startProviders, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import {
  buildSendgridEvents,
  twilioSignature,
  type FakeOutcome,
  type FakeProviders,
  type RecordedRequest,
} from '../fakes/provider-server.js';
import { fixedClock } from '../../src/platform/clock.js';
import {
  approveCampaign,
  campaignProgress,
  cancelCampaign,
  createCampaign,
  estimateCampaign,
  pauseCampaign,
  publishIncidentUpdate,
  resumeCampaign,
  startCampaign,
  submitCampaign,
} from '../../src/campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';
import type { Audience } from '../../src/campaigns/lifecycle.js';
import type { Incident } from '../../src/incidents/store.js';
import { jobIds } from '../../src/queues.js';
import { ForbiddenError } from '../../src/platform/errors.js';
import { saveNoticeOverride } from '../../src/notices/templates.js';

// Noon in London: inside calling hours for everyone in Europe, so SMS and calls go at once.
const NOON = new Date('2026-01-15T12:00:00Z');

describe('campaigns that reach everyone (real PostgreSQL, Redis, workers, SDKs against fake providers)', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  let incident: Incident;
  const clock = fixedClock(NOON);

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    ctx = await startTestContext({
      workers: true,
      env: { ...providers.env, CALLING_HOURS: '08:00-21:00' },
      clock,
    });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
  });
  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    clock.set(NOON);
    fake.setBehaviour(() => ({ reply: 'accept' }));
    incident = await makeIncident(ctx.deps);
  });

  async function approvedCampaign(audience: Audience = 'affected') {
    const editor = await makeStaff(ctx.deps, 'editor');
    const approver = await makeStaff(ctx.deps, 'approver');
    const campaign = await createCampaign(ctx.deps, {
      incidentId: incident.id,
      kind: 'initial_notice',
      audience,
      channelPolicy: DEFAULT_CHANNEL_POLICY,
      createdBy: editor.id,
    });
    await submitCampaign(ctx.deps, { campaignId: campaign.id });
    await approveCampaign(ctx.deps, { campaignId: campaign.id, approverId: approver.id });
    return campaign;
  }

  async function messages(campaignId: number) {
    const { rows } = await ctx.deps.db.query<{
      id: number;
      person_id: number;
      attempt: number;
      channel: string | null;
      status: string;
      status_reason: string | null;
      fallback: string | null;
      send_after: Date | null;
    }>(
      `SELECT id, person_id, attempt, channel, status, status_reason, fallback, send_after
       FROM messages WHERE campaign_id = $1 ORDER BY person_id, attempt`,
      [campaignId],
    );
    return rows;
  }

  const phoneOf = (request: RecordedRequest): string | undefined =>
    request.kind === 'sendgrid' ? undefined : (request.body as Record<string, string>).To;
  /** Everyone SendGrid accepted an email for, one per personalization, batched or not. */
  const emailedTo = () => fake.sendgridMessages.map((m) => m.to);

  it('refuses approval by the editor who created the campaign', async () => {
    const editor = await makeStaff(ctx.deps, 'editor');
    const campaign = await createCampaign(ctx.deps, {
      incidentId: incident.id,
      kind: 'initial_notice',
      audience: 'affected',
      channelPolicy: DEFAULT_CHANNEL_POLICY,
      createdBy: editor.id,
    });
    await submitCampaign(ctx.deps, { campaignId: campaign.id });
    await expect(
      approveCampaign(ctx.deps, { campaignId: campaign.id, approverId: editor.id }),
    ).rejects.toThrow(ForbiddenError);
  });

  it('follows a hard-bounced email with an SMS, and a failed SMS with a call, recording each step', async () => {
    const [person] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: 'bounces@example.com', phone: '+447400555001' }),
    ]);
    fake.setBehaviour((request): FakeOutcome => {
      if (request.kind === 'sendgrid') return { reply: 'accept', receipt: { status: 'bounce' } };
      if (request.kind === 'twilio-sms') return { reply: 'accept', receipt: { status: 'undelivered' } };
      return { reply: 'accept' };
    });
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    const steps = await eventually('the call to be answered', async () => {
      const rows = await messages(campaign.id);
      return rows.some((row) => row.status === 'answered') ? rows : undefined;
    });
    expect(steps.map((row) => [row.attempt, row.channel, row.status, row.fallback])).toEqual([
      [1, 'email', 'bounced', 'next'],
      [2, 'sms', 'undelivered', 'next'],
      [3, 'voice', 'answered', null],
    ]);
    expect(steps.every((row) => row.person_id === person!.id)).toBe(true);
    expect(steps[0]!.status_reason).toMatch(/does not exist/);
    expect(steps[1]!.status_reason).toBe('Twilio error 30003');

    await eventually('the campaign to complete', async () => {
      const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return progress.status === 'completed' ? progress : undefined;
    });
  });

  it('records a person every channel failed for as exhausted, visible in the progress', async () => {
    await makePeople(ctx.deps, incident.id, [
      makePerson({ email: 'nobody@example.com', phone: null }),
      makePerson({ email: null, phone: null, postalAddress: null }),
      makePerson({ email: 'fine@example.com' }),
    ]);
    // Per recipient: nobody@ may share a request with fine@ (SENDGRID_BATCH_SIZE).
    fake.setBehaviour(() => ({
      reply: 'accept',
      receiptFor: (to) => ({ status: to === 'nobody@example.com' ? 'bounce' : 'delivered' }),
    }));
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    const progress = await eventually('the campaign to complete', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return p.status === 'completed' && p.reached === 1 ? p : undefined;
    });
    expect(progress.people).toBe(3);
    expect(progress.exhausted).toBe(2);
    expect(progress.reached).toBe(1);
    expect(progress.percent).toBe(100);
    expect(progress.byChannel.email!.bounced).toBe(1);
    expect(progress.byChannel.none!.failed).toBe(1);
    expect(progress.failures.map((f) => f.reason)).toContain('no usable contact details on file');
    const rows = await messages(campaign.id);
    expect(rows.filter((row) => row.fallback === 'exhausted')).toHaveLength(2);
  });

  it('keeps the live counters equal to a full count of the messages', async () => {
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: 40 }, (_, i) =>
        makePerson({
          email: i % 4 === 0 ? null : `count${i}@example.com`,
          phone: `+4474005560${String(i).padStart(2, '0')}`,
        }),
      ),
    );
    fake.setBehaviour(() => ({
      reply: 'accept',
      receiptFor: (to) => ({ status: Number(/count(\d+)/.exec(to)?.[1]) % 3 === 0 ? 'bounce' : 'delivered' }),
    }));
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually('the campaign to complete and every receipt to arrive', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return p.status === 'completed' && p.reached === 40;
    });
    const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
    const { rows } = await ctx.deps.db.query<{ channel: string; status: string; n: number }>(
      `SELECT channel, status, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY 1, 2`,
      [campaign.id],
    );
    for (const row of rows)
      expect(progress.byChannel[row.channel]![row.status as 'sent'], `${row.channel} ${row.status}`).toBe(
        row.n,
      );
    expect(progress.reached).toBe(40);
  });

  it('defers an SMS for a person whose local time is 23:00 to 08:00 their time, then sends it', async () => {
    // 12:00 UTC in January is 23:00 in Sydney (UTC+11); 08:00 there is 21:00 UTC.
    const [person] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: null, phone: '+61400555001', timeZone: 'Australia/Sydney' }),
    ]);
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    const [deferred] = await eventually('the message to be written', async () => {
      const rows = await messages(campaign.id);
      return rows.length === 1 ? rows : undefined;
    });
    expect(deferred!.status).toBe('queued');
    expect(deferred!.send_after?.toISOString()).toBe('2026-01-15T21:00:00.000Z');
    const job = await eventually('the delayed job', async () => {
      const found = await ctx.deps.queues.send.sms.getJob(jobIds.send(deferred!.id));
      return (await found?.isDelayed()) ? found : undefined;
    });
    expect(job.delay).toBe(9 * 3600_000);
    expect(fake.requests.some((request) => phoneOf(request) === '+61400555001')).toBe(false);

    clock.set(new Date('2026-01-15T21:00:00Z'));
    await job.promote();
    await fake.waitFor((requests) => requests.some((request) => phoneOf(request) === '+61400555001'));
    const [sent] = await eventually('the SMS to be delivered', async () => {
      const rows = await messages(campaign.id);
      return rows[0]?.status === 'delivered' ? rows : undefined;
    });
    expect(sent!.person_id).toBe(person!.id);
  });

  it('reopens a completed campaign when a late receipt says an SMS never arrived, and calls instead', async () => {
    await makePeople(ctx.deps, incident.id, [makePerson({ email: null, phone: '+447400559001' })]);
    fake.setBehaviour((request) =>
      request.kind === 'twilio-sms' ? { reply: 'accept', receipt: null } : { reply: 'accept' },
    );
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually('the campaign to complete with the SMS sent', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return p.status === 'completed' && p.byChannel.sms?.sent === 1;
    });
    const [sms] = await messages(campaign.id);
    const { rows } = await ctx.deps.db.query<{ provider_message_id: string }>(
      'SELECT provider_message_id FROM messages WHERE id = $1',
      [sms!.id],
    );
    const url = `${ctx.config.publicBaseUrl}/webhooks/twilio/status?message=${sms!.id}`;
    const params = {
      MessageSid: rows[0]!.provider_message_id,
      MessageStatus: 'undelivered',
      ErrorCode: '30005',
    };
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': twilioSignature(TWILIO_AUTH_TOKEN, url, params),
      },
      body: new URLSearchParams(params),
    });
    expect(response.status).toBe(204);

    const steps = await eventually('the call to be answered and the campaign to complete again', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      const rows = await messages(campaign.id);
      return p.status === 'completed' && rows.some((row) => row.status === 'answered') ? rows : undefined;
    });
    expect(steps.map((row) => [row.channel, row.status])).toEqual([
      ['sms', 'undelivered'],
      ['voice', 'answered'],
    ]);
  });

  it('ends duplicated, reordered and replayed receipts where one in-order delivery ends', async () => {
    await makePeople(ctx.deps, incident.id, [
      makePerson({ email: null, phone: '+447400557001' }),
      makePerson({ email: null, phone: '+447400557002' }),
    ]);
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    const [inOrder, shuffled] = await eventually('both SMS to be accepted', async () => {
      const { rows } = await ctx.deps.db.query<{ id: number; provider_message_id: string; status: string }>(
        `SELECT id, provider_message_id, status FROM messages WHERE campaign_id = $1 ORDER BY person_id`,
        [campaign.id],
      );
      return rows.length === 2 && rows.every((row) => row.status === 'sent') ? rows : undefined;
    });

    const post = async (message: { id: number; provider_message_id: string }, status: string) => {
      const url = `${ctx.config.publicBaseUrl}/webhooks/twilio/status?message=${message.id}`;
      const params = { MessageSid: message.provider_message_id, MessageStatus: status };
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'X-Twilio-Signature': twilioSignature(TWILIO_AUTH_TOKEN, url, params),
        },
        body: new URLSearchParams(params),
      });
      expect(response.status).toBe(204);
    };
    for (const status of ['sending', 'sent', 'delivered']) await post(inOrder!, status);
    for (const status of ['delivered', 'sent', 'delivered', 'sending', 'sent', 'delivered'])
      await post(shuffled!, status);

    const { rows } = await ctx.deps.db.query<{
      status: string;
      sent_at: Date | null;
      delivered_at: Date | null;
    }>(`SELECT status, sent_at, delivered_at FROM messages WHERE campaign_id = $1 ORDER BY person_id`, [
      campaign.id,
    ]);
    expect(rows.map((row) => row.status)).toEqual(['delivered', 'delivered']);
    expect(rows.every((row) => row.sent_at && row.delivered_at)).toBe(true);
    const { rows: events } = await ctx.deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_events WHERE message_id = $1`,
      [shuffled!.id],
    );
    expect(events[0]!.n).toBe(3); // one stored event per distinct receipt; replays add nothing
  });

  it('applies a receipt that failed half-way when SendGrid posts it again', async () => {
    await makePeople(ctx.deps, incident.id, [makePerson({ email: 'halfway@example.com' })]);
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    const message = await eventually('the email to be accepted', async () => {
      const [row] = await messages(campaign.id);
      return row?.status === 'sent' ? row : undefined;
    });
    const email = fake.sendgridMessages.find((m) => m.to === 'halfway@example.com')!;
    const request = fake.requests.find((r) => r.providerMessageId === email.xMessageId)!;
    const { body, headers } = fake.signSendgridEvents(
      buildSendgridEvents(request.body, request.providerMessageId, 'delivered'),
    );
    const post = () => fetch(`${ctx.baseUrl}/webhooks/sendgrid`, { method: 'POST', headers, body });

    // The status update fails after the event could have been stored: SendGrid gets a 5xx and retries.
    await ctx.deps.db.query(
      `CREATE FUNCTION refuse_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'refused for the test'; END $$`,
    );
    await ctx.deps.db.query(
      `CREATE TRIGGER refuse_delivery BEFORE UPDATE ON messages FOR EACH ROW
       WHEN (NEW.id = ${message.id} AND NEW.status = 'delivered') EXECUTE FUNCTION refuse_delivery()`,
    );
    try {
      expect((await post()).status).toBe(500);
    } finally {
      await ctx.deps.db.query('DROP TRIGGER refuse_delivery ON messages; DROP FUNCTION refuse_delivery()');
    }
    expect((await post()).status).toBe(204);

    expect((await messages(campaign.id)).map((row) => row.status)).toEqual(['delivered']);
    const { rows: events } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM delivery_events WHERE message_id = $1',
      [message.id],
    );
    expect(events[0]!.n).toBe(1);
  });

  /**
   * Starts a campaign with the email queues held (BullMQ's own pause): the per-message queue and the
   * batch queue (SENDGRID_BATCH_SIZE above 1), so the test decides when workers may take its jobs:
   * nothing is sent before `release`.
   */
  async function startHeld(people: number, prefix: string) {
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: people }, (_, i) => makePerson({ email: `${prefix}${i}@example.com` })),
    );
    const queues = [ctx.deps.queues.send.email, ctx.deps.queues.sendBatch];
    await Promise.all(queues.map((queue) => queue.pause()));
    const campaign = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually('the fan-out to queue everyone', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return p.fanoutComplete && p.totals.queued === people;
    });
    return {
      campaign,
      queues,
      release: () => Promise.all(queues.map((queue) => queue.resume())),
      received: () => emailedTo().filter((to) => to.startsWith(prefix)),
      queueEmpty: async () => {
        for (const queue of queues) {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
          if ((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) > 0) return false;
        }
        return true;
      },
    };
  }

  it('sends nothing while paused, everything once resumed, and never twice', async () => {
    const held = await startHeld(30, 'pause');
    await pauseCampaign(ctx.deps, { campaignId: held.campaign.id });
    await held.release();
    await eventually('workers to take every job and skip it', held.queueEmpty);
    expect(held.received()).toHaveLength(0);
    const paused = await campaignProgress(ctx.deps, { campaignId: held.campaign.id });
    expect(paused.status).toBe('paused');
    expect(paused.totals.queued).toBe(30);

    await resumeCampaign(ctx.deps, { campaignId: held.campaign.id });
    await eventually('the campaign to complete', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: held.campaign.id });
      return p.status === 'completed' && p.reached === 30;
    });
    expect(held.received()).toHaveLength(30);
    expect(new Set(held.received()).size).toBe(30);
  });

  it('cancels what has not gone yet', async () => {
    const held = await startHeld(30, 'cancel');
    await cancelCampaign(ctx.deps, { campaignId: held.campaign.id });
    await held.release();
    await eventually('workers to take every job and skip it', held.queueEmpty);
    const rows = await messages(held.campaign.id);
    expect(rows.map((row) => row.status)).toEqual(Array(30).fill('cancelled'));
    expect(held.received()).toHaveLength(0);
    const progress = await campaignProgress(ctx.deps, { campaignId: held.campaign.id });
    expect(progress.status).toBe('cancelled');
    expect(progress.totals.cancelled).toBe(30);
  });

  it('puts back the send jobs Redis lost, and each person still hears once', async () => {
    const held = await startHeld(25, 'lost');
    // Every queued job vanishes, as after a flush: only PostgreSQL still knows what is owed.
    await Promise.all(held.queues.map((queue) => queue.drain(true)));
    await held.release();
    await eventually(
      'the reconciler to finish the campaign',
      async () => {
        const p = await campaignProgress(ctx.deps, { campaignId: held.campaign.id });
        return p.status === 'completed' && p.reached === 25;
      },
      20_000,
    );
    expect(held.received()).toHaveLength(25);
    expect(new Set(held.received()).size).toBe(25);
  });

  it('tells subscribers and everyone affected about an incident update, but not who unsubscribed from updates', async () => {
    const [, subscriber, , unsubscribed] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: 'affected@example.com' }),
      makePerson({ email: 'subscriber@example.com', affected: false }),
      makePerson({ email: 'bystander@example.com', affected: false }),
      makePerson({ email: 'unsubscribed@example.com' }),
    ]);
    await ctx.deps.db.query('UPDATE people SET subscribed_at = now() WHERE id = $1', [subscriber!.id]);
    await ctx.deps.db.query('UPDATE people SET updates_opted_out_at = now() WHERE id = $1', [
      unsubscribed!.id,
    ]);
    const editor = await makeStaff(ctx.deps, 'editor');
    const { update, campaign } = await publishIncidentUpdate(ctx.deps, {
      incidentId: incident.id,
      texts: { en: { title: 'Passwords reset', body: 'We reset every password as a precaution.' } },
      notify: 'subscribers_and_affected',
      createdBy: editor.id,
    });
    expect(campaign?.status).toBe('awaiting_approval');
    expect(campaign?.updateId).toBe(update.id);
    await approveCampaign(ctx.deps, {
      campaignId: campaign!.id,
      approverId: (await makeStaff(ctx.deps, 'approver')).id,
    });
    await startCampaign(ctx.deps, { campaignId: campaign!.id });
    await eventually('both emails', async () => {
      const p = await campaignProgress(ctx.deps, { campaignId: campaign!.id });
      return p.status === 'completed' && p.reached === 2;
    });
    const emails = fake.sendgridMessages.filter((m) =>
      [
        'affected@example.com',
        'subscriber@example.com',
        'bystander@example.com',
        'unsubscribed@example.com',
      ].includes(m.to),
    );
    expect(emails.map((m) => m.to).sort()).toEqual(['affected@example.com', 'subscriber@example.com']);
    for (const email of emails) expect(email.subject + email.text).toContain('Passwords reset');
  });

  it('sends wording staff changed after the workers last read the incident, with the clock standing still', async () => {
    const subjectOf = (email: string) => fake.sendgridMessages.find((m) => m.to === email)?.subject;
    await makePeople(ctx.deps, incident.id, [makePerson({ email: 'first-read@example.com' })]);
    const first = await approvedCampaign();
    await startCampaign(ctx.deps, { campaignId: first.id });
    await eventually('the first email', () => Promise.resolve(subjectOf('first-read@example.com')));
    expect(subjectOf('first-read@example.com')).toContain(incident.organisationName);

    await saveNoticeOverride(ctx.deps.db, {
      incidentId: incident.id,
      locale: 'en',
      segment: '',
      key: 'initial_notice.subject',
      text: 'Please read: {{organisation}} incident',
      defaultText: 'Important: a data security incident at {{organisation}} involved your information',
      staffId: null,
    });
    await ctx.deps.db.query('UPDATE incidents SET organisation_name = $2 WHERE id = $1', [
      incident.id,
      'Renamed Ltd',
    ]);
    await makePeople(ctx.deps, incident.id, [makePerson({ email: 'after-edit@example.com' })]);
    const second = await approvedCampaign('not_reached');
    await startCampaign(ctx.deps, { campaignId: second.id });
    expect(
      await eventually('the second email', () => Promise.resolve(subjectOf('after-edit@example.com'))),
    ).toBe('Please read: Renamed Ltd incident');
  });

  it('estimates each channel’s finish from the audience, the rates and calling hours before sending', async () => {
    await makePeople(ctx.deps, incident.id, [
      ...Array.from({ length: 6 }, (_, i) => makePerson({ email: `estimate${i}@example.com` })),
      makePerson({ email: null, phone: '+61400555002', timeZone: 'Australia/Sydney' }),
    ]);
    const campaign = await approvedCampaign();
    const estimates = await estimateCampaign(ctx.deps, { campaignId: campaign.id });
    const email = estimates.find((e) => e.channel === 'email')!;
    const sms = estimates.find((e) => e.channel === 'sms')!;
    expect(email.remaining).toBe(6);
    expect(email.finishesAt!.getTime()).toBeLessThan(NOON.getTime() + 1000);
    // Sydney is asleep at noon UTC: its SMS waits for 08:00 there (21:00 UTC).
    expect(sms.finishesAt!.getTime()).toBeGreaterThanOrEqual(new Date('2026-01-15T21:00:00Z').getTime());
  });
});
