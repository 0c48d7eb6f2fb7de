import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import { twilioSignature, type FakeProviders } from '../fakes/provider-server.js';
import { REDACTED_FIELDS } from '../../src/platform/logger.js';
import { startCampaign } from '../../src/campaigns/service.js';
import type { Incident } from '../../src/incidents/store.js';

describe('sending through SendGrid and Twilio (official SDKs against fake providers)', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  let incident: Incident;
  const logs: string[] = [];

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'debug', redact: { paths: REDACTED_FIELDS, censor: '[redacted]' } }, sink);
    ctx = await startTestContext({ workers: true, env: providers.env, logger });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
    incident = await makeIncident(ctx.deps);
  });
  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });

  async function sendCampaign() {
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    return campaign;
  }

  async function statuses(campaignId: number) {
    const { rows } = await ctx.deps.db.query<{
      person_id: number;
      channel: string;
      status: string;
      status_reason: string | null;
      provider_message_id: string | null;
    }>(
      'SELECT person_id, channel, status, status_reason, provider_message_id FROM messages WHERE campaign_id = $1 ORDER BY person_id',
      [campaignId],
    );
    return rows;
  }

  it('delivers email, SMS and a call, each in the person’s language, and applies the signed receipts', async () => {
    await makePeople(ctx.deps, incident.id, [
      makePerson({ name: 'Ada Lovelace', email: 'ada@example.com' }),
      makePerson({ name: 'Léa Dubois', email: 'lea@example.fr', locale: 'fr' }),
      makePerson({ name: 'Sam Texter', email: null, phone: '+447400123001', preferredChannel: 'sms' }),
      makePerson({
        name: 'Vic Listener',
        email: 'vic@example.com',
        phone: '+447400123002',
        accessibilityNeeds: ['visually_impaired'],
      }),
    ]);
    const campaign = await sendCampaign();

    const final = await eventually('receipts for all four messages', async () => {
      const rows = await statuses(campaign.id);
      return rows.length === 4 && rows.every((row) => ['delivered', 'answered'].includes(row.status))
        ? rows
        : undefined;
    });
    expect(final.map((row) => row.channel).sort()).toEqual(['email', 'email', 'sms', 'voice']);

    // One email per person, whether or not the two shared a request (SENDGRID_BATCH_SIZE).
    expect(fake.sendgridMessages).toHaveLength(2);
    const lea = fake.sendgridMessages.find((m) => m.to === 'lea@example.fr')!;
    expect(lea.subject).toContain('incident de sécurité');
    // Custom args carry our message id and nothing else.
    expect(Object.keys(lea.customArgs)).toEqual(['candor_message_id']);
    const request = fake.requests.find((r) => r.providerMessageId === lea.xMessageId)!.body as {
      content: { type: string; value: string }[];
      tracking_settings: unknown;
    };
    expect(request.content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(request.tracking_settings).toEqual({
      click_tracking: { enable: false, enable_text: false },
      open_tracking: { enable: false },
    });

    const sms = fake.requests.find((r) => r.kind === 'twilio-sms')!.body as Record<string, string>;
    expect(sms.To).toBe('+447400123001');
    expect(sms.Body).toContain(`/incidents/${incident.slug}`);
    expect(sms.StatusCallback).toMatch(new RegExp(`^${ctx.baseUrl}/webhooks/twilio/status\\?message=\\d+$`));

    const call = fake.requests.find((r) => r.kind === 'twilio-voice')!.body as Record<string, string>;
    expect(call.To).toBe('+447400123002');
    expect(call.Url).toMatch(/\/webhooks\/twilio\/voice\?message=\d+$/);

    await fake.settled();
    expect(fake.receiptsPosted.every((post) => post.status === 204)).toBe(true);
  });

  it('keeps contacts and names out of the logs', () => {
    const text = logs.join('');
    expect(text).toContain('provider accepted message');
    for (const secret of ['ada@example.com', 'lea@example.fr', '+447400123001', 'Lovelace', 'Dubois'])
      expect(text).not.toContain(secret);
  });

  it('has no sandbox outbox at all when no channel uses the sandbox provider', async () => {
    for (const path of ['/sandbox/outbox', '/sandbox/outbox/1/email', '/sandbox/outbox/1/letter.pdf'])
      expect((await fetch(`${ctx.baseUrl}${path}`, { redirect: 'manual' })).status, path).toBe(404);
  });

  it('refuses a forged SendGrid receipt and changes nothing', async () => {
    const { rows } = await ctx.deps.db.query<{ id: number }>(
      "SELECT id FROM messages WHERE channel = 'email' LIMIT 1",
    );
    const body = JSON.stringify([
      { event: 'bounce', sg_event_id: 'forged-1', candor_message_id: String(rows[0]!.id), timestamp: 1 },
    ]);
    const response = await fetch(`${ctx.baseUrl}/webhooks/sendgrid`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'X-Twilio-Email-Event-Webhook-Signature': Buffer.from('not a signature').toString('base64'),
        'X-Twilio-Email-Event-Webhook-Timestamp': '1',
      },
      body,
    });
    expect(response.status).toBe(403);
    const { rows: after } = await ctx.deps.db.query<{ status: string }>(
      'SELECT status FROM messages WHERE id = $1',
      [rows[0]!.id],
    );
    expect(after[0]!.status).toBe('delivered');
  });

  it('refuses a genuinely signed SendGrid batch whose signature is three days old, and counts it', async () => {
    const { rows } = await ctx.deps.db.query<{ id: number; provider_message_id: string }>(
      "SELECT id, provider_message_id FROM messages WHERE channel = 'email' AND status = 'delivered' LIMIT 1",
    );
    const message = rows[0]!;
    const events = [
      {
        email: 'ada@example.com',
        event: 'bounce',
        sg_event_id: 'replayed-days-later',
        sg_message_id: `${message.provider_message_id}.filterdrecv-1`,
        candor_message_id: String(message.id),
        timestamp: Math.floor(Date.now() / 1000) - 3 * 86_400,
      },
    ];
    const refusals = async () =>
      /candor_webhook_refusals_total\{provider="sendgrid",reason="stale"\} (\d+)/.exec(
        await ctx.deps.metrics.registry.metrics(),
      )?.[1] ?? '0';
    const before = Number(await refusals());
    const post = (signedAt: Date) => {
      const { body, headers } = fake.signSendgridEvents(events, signedAt);
      return fetch(`${ctx.baseUrl}/webhooks/sendgrid`, { method: 'POST', headers, body });
    };
    expect((await post(new Date(Date.now() - 3 * 86_400_000))).status).toBe(403);
    expect(Number(await refusals())).toBe(before + 1);
    const { rows: after } = await ctx.deps.db.query<{ status: string }>(
      'SELECT status FROM messages WHERE id = $1',
      [message.id],
    );
    expect(after[0]!.status).toBe('delivered');
    // The same batch signed now (as SendGrid signs each retry afresh) is taken.
    expect((await post(new Date())).status).toBeLessThan(300);
  });

  it('refuses a Twilio callback signed with the wrong token, and takes a replayed genuine one without change', async () => {
    const { rows } = await ctx.deps.db.query<{ id: number; provider_message_id: string }>(
      "SELECT id, provider_message_id FROM messages WHERE channel = 'sms' LIMIT 1",
    );
    const message = rows[0]!;
    const url = `${ctx.baseUrl}/webhooks/twilio/status?message=${message.id}`;
    const params = { MessageSid: message.provider_message_id, MessageStatus: 'failed', ErrorCode: '30008' };
    const post = (signature: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
        body: new URLSearchParams(params),
      });

    expect((await post(twilioSignature('wrong-token', url, params))).status).toBe(403);
    const { rows: events } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM delivery_events',
    );

    const delivered = { MessageSid: message.provider_message_id, MessageStatus: 'delivered' };
    const replay = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': twilioSignature(TWILIO_AUTH_TOKEN, url, delivered),
      },
      body: new URLSearchParams(delivered),
    });
    expect(replay.status).toBe(204);
    const { rows: eventsAfter } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM delivery_events',
    );
    expect(eventsAfter[0]!.n).toBe(events[0]!.n);
    const { rows: after } = await ctx.deps.db.query<{ status: string }>(
      'SELECT status FROM messages WHERE id = $1',
      [message.id],
    );
    expect(after[0]!.status).toBe('delivered');
  });

  it('answers a malformed receipt with 400, not a crash', async () => {
    const url = `${ctx.baseUrl}/webhooks/twilio/status?message=1`;
    const params = { Nothing: 'useful' };
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': twilioSignature(TWILIO_AUTH_TOKEN, url, params),
      },
      body: new URLSearchParams(params),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('backs off on a provider 429 and sends once it is accepted; fails at once on a 400 with the reason', async () => {
    const throttled = makePerson({ name: 'Tia Throttled', email: 'tia@example.com' });
    // An address SendGrid refuses with a 400 naming it: alone in its request, or in a batch with Tia
    // (SENDGRID_BATCH_SIZE), where it fails alone and the rest go again.
    const refused = makePerson({ name: 'Rex Refused', email: 'rex refused@example.com' });
    let tiaAttempts = 0;
    fake.setBehaviour((req) => {
      const to = (
        (req.body as { personalizations?: { to: { email: string }[] }[] }).personalizations ?? []
      ).map((p) => p.to[0]?.email);
      if (to.includes('tia@example.com') && ++tiaAttempts === 1) return { reply: 'error', status: 429 };
      return { reply: 'accept', receipt: { status: 'delivered' } };
    });
    await ctx.deps.db.query("UPDATE campaigns SET status = 'completed'");
    const [tia, rex] = await makePeople(ctx.deps, incident.id, [throttled, refused]);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id, {
      kind: 'update',
      audience: 'not_reached',
    });
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    const rows = await eventually('both messages to settle', async () => {
      const all = await statuses(campaign.id);
      const mine = all.filter((row) => row.person_id === tia!.id || row.person_id === rex!.id);
      return mine.length === 2 && mine.every((row) => ['delivered', 'failed'].includes(row.status))
        ? mine
        : undefined;
    });
    expect(rows.find((row) => row.person_id === tia!.id)!.status).toBe('delivered');
    expect(tiaAttempts).toBe(2);
    const failed = rows.find((row) => row.person_id === rex!.id)!;
    expect(failed.status).toBe('failed');
    expect(failed.status_reason).toMatch(/SendGrid refused/);
  });
});
