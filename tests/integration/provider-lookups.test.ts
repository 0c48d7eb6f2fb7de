import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import type { FakeOutcome, FakeProviders, RecordedRequest } from '../fakes/provider-server.js';
import { campaignDashboard, campaignProgress, startCampaign } from '../../src/campaigns/service.js';
import type { PersonInput } from '../../src/people/store.js';

/**
 * Asking the provider instead of guessing: the official SDKs time out against the fake providers,
 * the fakes answer Twilio's Messages fetch and list and SendGrid's Email Activity query, and the
 * reconciler (every second here) settles what the send could not.
 */
describe('provider lookups after a time-out or a lost receipt', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  /** What the fake does with each recipient's requests, by address or number; the n-th request is 0-based. */
  const script = new Map<string, (n: number) => FakeOutcome>();

  /** Each campaign here is one person, so every request, batched or not, has one recipient. */
  function recipientOf(request: RecordedRequest): string {
    if (request.kind === 'sendgrid') {
      const body = request.body as { personalizations: { to: { email: string }[] }[] };
      return body.personalizations[0]?.to[0]?.email ?? '';
    }
    return (request.body as Record<string, string>).To ?? '';
  }

  function requestsTo(recipient: string): RecordedRequest[] {
    return fake.requests.filter((r) => recipientOf(r) === recipient);
  }

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    fake.setBehaviour((request) => {
      const recipient = recipientOf(request);
      const n = requestsTo(recipient).length - 1;
      return script.get(recipient)?.(n) ?? { reply: 'accept' };
    });
    ctx = await startTestContext({
      workers: true,
      env: {
        ...providers.env,
        // The SDKs give up after one second; the fake's hang lasts two and a half, then it accepts.
        PROVIDER_TIMEOUT_SECONDS: '1',
        UNKNOWN_LOOKUP_AFTER_SECONDS: '3',
        UNKNOWN_RESEND_AFTER_SECONDS: '4',
        RECEIPT_LOOKUP_AFTER_SECONDS: '2',
        // A "not found" from the fake's activity feed is the truth at once (SendGrid's can lag 30 min).
        SENDGRID_ACTIVITY_LAG_SECONDS: '0',
      },
    });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
  });
  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });

  async function sendTo(person: PersonInput) {
    const incident = await makeIncident(ctx.deps);
    await makePeople(ctx.deps, incident.id, [person]);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    return campaign;
  }

  async function message(campaignId: number) {
    const { rows } = await ctx.deps.db.query<{
      id: number;
      status: string;
      provider_message_id: string | null;
      resends: number;
      sent_at: Date | null;
    }>('SELECT id, status, provider_message_id, resends, sent_at FROM messages WHERE campaign_id = $1', [
      campaignId,
    ]);
    return rows[0]!;
  }

  async function statusBecomes(campaignId: number, status: string, timeoutMs = 20_000) {
    return eventually(
      `the message to become ${status}`,
      async () => {
        const row = await message(campaignId);
        return row.status === status ? row : undefined;
      },
      timeoutMs,
    );
  }

  it('leaves a timed-out SMS unknown, finds it at Twilio by number and date, and never sends it twice', async () => {
    const phone = '+447700900101';
    script.set(phone, () => ({
      reply: 'accept',
      delayMs: 2_500,
      receipt: { status: 'delivered' },
      postReceipt: false,
    }));
    const campaign = await sendTo(makePerson({ email: null, phone, preferredChannel: 'sms' }));

    await statusBecomes(campaign.id, 'unknown', 10_000);
    const delivered = await statusBecomes(campaign.id, 'delivered');

    const sent = requestsTo(phone);
    expect(sent).toHaveLength(1);
    expect(delivered.provider_message_id).toBe(sent[0]!.providerMessageId);
    expect(delivered.resends).toBe(0);
    expect(
      fake.lookups.some((l) => l.kind === 'twilio-sms' && l.query.includes(encodeURIComponent(phone))),
    ).toBe(true);
  }, 30_000);

  it('sends a timed-out email exactly once more when SendGrid has no record of it, and counts the resend', async () => {
    const email = 'lost-in-transit@example.com';
    script.set(email, (n) => (n === 0 ? { reply: 'drop', delayMs: 1_500 } : { reply: 'accept' }));
    const campaign = await sendTo(makePerson({ email }));

    await statusBecomes(campaign.id, 'unknown', 10_000);
    const delivered = await statusBecomes(campaign.id, 'delivered');

    expect(requestsTo(email)).toHaveLength(2);
    expect(delivered.resends).toBe(1);
    expect(fake.lookups.some((l) => l.kind === 'sendgrid' && l.path === '/v3/messages')).toBe(true);
    const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
    expect(progress.resends).toBe(1);
    // The figure the campaign page and the API's progress show.
    const shown = await campaignDashboard(ctx.deps, { campaignId: campaign.id });
    expect(shown.resends).toBe(1);
  }, 30_000);

  it('records a timed-out email that SendGrid did take as sent, from the activity feed, without a resend', async () => {
    const email = 'slow-but-kept@example.com';
    script.set(email, () => ({ reply: 'accept', delayMs: 2_500, receipt: null }));
    const campaign = await sendTo(makePerson({ email }));

    await statusBecomes(campaign.id, 'unknown', 10_000);
    const sent = await statusBecomes(campaign.id, 'sent');

    expect(requestsTo(email)).toHaveLength(1);
    expect(sent.provider_message_id).toBe(requestsTo(email)[0]!.providerMessageId);
    expect(sent.resends).toBe(0);
  }, 30_000);

  it('waits out the window, then resends, when SendGrid cannot be asked (no Email Activity access)', async () => {
    const email = 'no-activity-api@example.com';
    script.set(email, (n) => (n === 0 ? { reply: 'drop', delayMs: 1_500 } : { reply: 'accept' }));
    fake.setSendgridActivity(false);
    try {
      const campaign = await sendTo(makePerson({ email }));
      await statusBecomes(campaign.id, 'unknown', 10_000);
      const delivered = await statusBecomes(campaign.id, 'delivered');

      expect(requestsTo(email)).toHaveLength(2);
      expect(delivered.resends).toBe(1);
      // Not at the first lookup (403): only once UNKNOWN_RESEND_AFTER_SECONDS had passed.
      const resent = requestsTo(email)[1]!.receivedAt - requestsTo(email)[0]!.receivedAt;
      expect(resent).toBeGreaterThanOrEqual(4_000);
    } finally {
      fake.setSendgridActivity(true);
    }
  }, 30_000);

  it('finds a timed-out call among the calls to the number, and records it answered without calling again', async () => {
    const phone = '+447700900103';
    script.set(phone, () => ({
      reply: 'accept',
      delayMs: 2_500,
      receipt: { status: 'completed', answeredBy: 'human' },
      postReceipt: false,
    }));
    const campaign = await sendTo(
      makePerson({ email: null, phone, accessibilityNeeds: ['visually_impaired'] }),
    );

    await statusBecomes(campaign.id, 'unknown', 10_000);
    const answered = await statusBecomes(campaign.id, 'answered');

    const calls = requestsTo(phone);
    expect(calls.map((r) => r.kind)).toEqual(['twilio-voice']);
    expect(answered.provider_message_id).toBe(calls[0]!.providerMessageId);
    expect(fake.lookups.some((l) => l.kind === 'twilio-voice')).toBe(true);
  }, 30_000);

  it('marks an SMS delivered from Twilio’s record when its status callback never came', async () => {
    const phone = '+447700900102';
    script.set(phone, () => ({ reply: 'accept', receipt: { status: 'delivered' }, postReceipt: false }));
    const campaign = await sendTo(makePerson({ email: null, phone, preferredChannel: 'sms' }));

    const sent = await statusBecomes(campaign.id, 'sent', 10_000);
    const delivered = await statusBecomes(campaign.id, 'delivered');

    expect(delivered.provider_message_id).toBe(sent.provider_message_id);
    expect(fake.receiptsPosted.filter((r) => r.url.includes(`message=${sent.id}`))).toHaveLength(0);
    expect(
      fake.lookups.some(
        (l) => l.kind === 'twilio-sms' && l.path.endsWith(`/${sent.provider_message_id}.json`),
      ),
    ).toBe(true);
    expect(requestsTo(phone)).toHaveLength(1);
  }, 30_000);
});
