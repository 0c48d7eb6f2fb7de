import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { readCampaignProgress, readFailureReasons } from '../../src/campaigns/progress.js';
import type { PersonInput } from '../../src/people/store.js';
import { makeStaffAccount, signedInAgent } from '../support/console.js';

/**
 * Rehearsal on the sandbox provider: each simulated recipient gets the receipts a real provider
 * would send (through the receipts pipeline, with the real workers), and the campaign follows each
 * failure up on the person's next channel, as the channel policy (email, SMS, call, letter) says.
 */

interface Attempt {
  attempt: number;
  channel: string;
  status: string;
  reason: string | null;
  fallback: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  send_after: Date | null;
  failed_at: Date | null;
  events: string[];
}

async function attemptsOf(ctx: TestContext, campaignId: number, personId: number): Promise<Attempt[]> {
  const { rows } = await ctx.deps.db.query<Attempt>(
    `SELECT m.attempt, m.channel, m.status, m.status_reason AS reason, m.fallback, m.sent_at, m.delivered_at,
            m.send_after, m.failed_at,
            COALESCE(array_agg(e.provider || ' ' || e.event ORDER BY e.id) FILTER (WHERE e.id IS NOT NULL), '{}') AS events
     FROM messages m LEFT JOIN delivery_events e ON e.message_id = m.id
     WHERE m.campaign_id = $1 AND m.person_id = $2 GROUP BY m.id ORDER BY m.attempt`,
    [campaignId, personId],
  );
  return rows;
}

/**
 * Every message has its last word: a receipt, a letter posted, a failure followed up, or a retry
 * scheduled for much later (an unanswered call is tried again in 30 minutes).
 */
async function settledCampaign(ctx: TestContext, campaignId: number): Promise<void> {
  await eventually(
    `every rehearsal message of campaign ${campaignId} to settle`,
    async () => {
      // One statement, so the fan-out, the messages counted and those still going agree.
      const { rows } = await ctx.deps.db.query<{ fanned: boolean; all: number; going: number }>(
        `SELECT (SELECT fanout_completed_at IS NOT NULL FROM campaigns WHERE id = $1) AS fanned,
                count(*)::int AS all, count(*) FILTER (WHERE
           (status IN ('queued', 'sending', 'unknown')
              AND (send_after IS NULL OR send_after < now() + interval '5 minutes'))
           OR (status = 'sent' AND channel <> 'letter')
           OR (status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy') AND fallback IS NULL))::int AS going
         FROM messages WHERE campaign_id = $1`,
        [campaignId],
      );
      return rows[0]!.fanned && rows[0]!.all > 0 && rows[0]!.going === 0;
    },
    60_000,
  );
}

const ADDRESS = '1 Test Street\nBristol BS1 1AA\nUnited Kingdom';

const brief = (attempts: Attempt[]) => attempts.map((a) => [a.channel, a.status, a.fallback]);

describe('rehearsing with simulated recipients on the sandbox provider', () => {
  let ctx: TestContext;
  let campaignId: number;
  const people: Record<string, { id: number; input: PersonInput }> = {};
  const cast: Record<string, Partial<PersonInput>> = {
    bounce: { email: 'bounce+one@simulator.candor.invalid', phone: '+447700900001' },
    bounceOnly: { email: 'bounce+two@simulator.candor.invalid' },
    late: { email: 'late@simulator.candor.invalid' },
    smsFails: { email: null, phone: '+447700900100', preferredChannel: 'sms', postalAddress: ADDRESS },
    noAnswer: {
      email: null,
      phone: '+447700900200',
      accessibilityNeeds: ['visually_impaired'],
      postalAddress: ADDRESS,
    },
    busy: { email: null, phone: '+447700900300', preferredChannel: 'voice', postalAddress: ADDRESS },
    lateSms: { email: null, phone: '+12025550140', preferredChannel: 'sms', country: 'US' },
    unreachable: {
      email: 'bounce+three@simulator.candor.invalid',
      phone: '+447700900500',
      postalAddress: ADDRESS,
    },
  };

  beforeAll(async () => {
    ctx = await startTestContext({
      workers: true,
      // Fast rehearsal: late receipts after a second, and a call that rings out moves straight on.
      env: { SANDBOX_LATE_RECEIPT_SECONDS: '1', VOICE_NO_ANSWER_TRIES: '1' },
    });
    const incident = await makeIncident(ctx.deps);
    for (const [role, overrides] of Object.entries(cast)) {
      const input = makePerson({ name: `Rehearsal ${role}`, ...overrides });
      const [created] = await makePeople(ctx.deps, incident.id, [input]);
      people[role] = { id: created!.id, input };
    }
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    campaignId = campaign.id;
    await startCampaign(ctx.deps, { campaignId });
    await settledCampaign(ctx, campaignId);
  }, 120_000);
  afterAll(async () => ctx?.close());

  const attempts = (role: string) => attemptsOf(ctx, campaignId, people[role]!.id);

  it('bounces a simulated bounce address like SendGrid would, and moves the person on to SMS', async () => {
    const tried = await attempts('bounce');
    expect(brief(tried)).toEqual([
      ['email', 'bounced', 'next'],
      ['sms', 'delivered', null],
    ]);
    expect(tried[0]!.events).toEqual(['sandbox bounce']);
    expect(tried[0]!.reason).toMatch(/^simulated: 550 5\.1\.1/);
    expect(tried[1]!.events).toEqual(['sandbox delivered']);
  });

  it('marks a person exhausted when a bounce leaves no other channel', async () => {
    expect(brief(await attempts('bounceOnly'))).toEqual([['email', 'bounced', 'exhausted']]);
  });

  it('reports a simulated late address delivered only after the configured delay', async () => {
    const [email, ...rest] = await attempts('late');
    expect(rest).toEqual([]);
    expect([email!.channel, email!.status, email!.events]).toEqual([
      'email',
      'delivered',
      ['sandbox delivered'],
    ]);
    // The receipt waited SANDBOX_LATE_RECEIPT_SECONDS (1 s) after the provider took the message.
    expect(email!.delivered_at!.getTime() - email!.sent_at!.getTime()).toBeGreaterThanOrEqual(900);
  });

  it('reports a late SMS to a fictional North American number delivered, late', async () => {
    const [sms, ...rest] = await attempts('lateSms');
    expect(rest).toEqual([]);
    expect([sms!.channel, sms!.status]).toEqual(['sms', 'delivered']);
    expect(sms!.delivered_at!.getTime() - sms!.sent_at!.getTime()).toBeGreaterThanOrEqual(900);
  });

  it('fails an SMS to a simulated failing number like Twilio would, and calls the person instead', async () => {
    const tried = await attempts('smsFails');
    expect(brief(tried)).toEqual([
      ['sms', 'undelivered', 'next'],
      ['voice', 'answered', null],
    ]);
    expect(tried[0]!.events).toEqual(['sandbox undelivered']);
    expect(tried[0]!.reason).toMatch(/30003/);
    expect(tried[1]!.events).toEqual(['sandbox completed']);
  });

  it('lets a call to a simulated unanswered number ring out, and writes a letter next', async () => {
    const tried = await attempts('noAnswer');
    expect(brief(tried)).toEqual([
      ['voice', 'no_answer', 'next'],
      ['letter', 'sent', null],
    ]);
    expect(tried[0]!.events).toEqual(['sandbox no-answer']);
  });

  it('finds a simulated busy number busy, and texts the person instead', async () => {
    const tried = await attempts('busy');
    expect(brief(tried)).toEqual([
      ['voice', 'busy', 'next'],
      ['sms', 'delivered', null],
    ]);
    expect(tried[0]!.events).toEqual(['sandbox busy']);
  });

  it('escalates an unreachable person through every channel: email, SMS, call, then a letter', async () => {
    expect(brief(await attempts('unreachable'))).toEqual([
      ['email', 'bounced', 'next'],
      ['sms', 'undelivered', 'next'],
      ['voice', 'no_answer', 'next'],
      ['letter', 'sent', null],
    ]);
  });

  it('shows the failures, their reasons and the escalations on the campaign’s progress', async () => {
    const progress = (await readCampaignProgress(ctx.deps.db, campaignId))!;
    expect(progress.people).toBe(Object.keys(cast).length);
    expect(progress.exhausted).toBe(1);
    expect(progress.inFlight).toBe(0);
    expect(progress.byChannel.email).toMatchObject({ bounced: 3, delivered: 1 });
    expect(progress.byChannel.sms).toMatchObject({ undelivered: 2, delivered: 3 });
    expect(progress.byChannel.voice).toMatchObject({ busy: 1, no_answer: 2, answered: 1 });
    expect(progress.byChannel.letter).toMatchObject({ sent: 2 });
    // Everyone settled: reached, written to, or exhausted.
    expect(progress.percent).toBe(100);
    const reasons = await readFailureReasons(ctx.deps.db, campaignId);
    // Each failure with how many of them moved on: one bounce left nowhere to go.
    expect(reasons.map((row) => [row.channel, row.status, row.n, row.movedOn]).sort()).toEqual(
      [
        ['email', 'bounced', 3, 2],
        ['sms', 'undelivered', 2, 2],
        ['voice', 'no_answer', 2, 2],
        ['voice', 'busy', 1, 1],
      ].sort(),
    );
    expect(reasons.every((row) => row.reason.startsWith('simulated: '))).toBe(true);
  });

  it('shows the rehearsal on the staff progress page', async () => {
    const viewer = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'viewer'));
    const page = await viewer.get(`/console/campaigns/${campaignId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('simulated: 550 5.1.1');
    expect(page.text).toContain('simulated: Twilio error 30003');
    expect(page.text).toContain('Tried on their next channel');
    expect(page.text).toMatch(/simulated: nobody answered<\/td>.*?<td data-field="moved-on">2<\/td>/s);
  });
});

describe('rehearsing an unanswered call with the usual retry', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
  }, 60_000);
  afterAll(async () => ctx?.close());

  it('tries the call again 30 minutes later before moving on, as VOICE_NO_ANSWER_TRIES=2 says', async () => {
    const incident = await makeIncident(ctx.deps);
    const [person] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: null, phone: '+447700900250', preferredChannel: 'voice', postalAddress: ADDRESS }),
    ]);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await settledCampaign(ctx, campaign.id);
    const tried = await attemptsOf(ctx, campaign.id, person!.id);
    expect(brief(tried)).toEqual([
      ['voice', 'no_answer', 'next'],
      ['voice', 'queued', null],
    ]);
    const waited = tried[1]!.send_after!.getTime() - tried[0]!.failed_at!.getTime();
    expect(waited).toBeGreaterThan(29 * 60_000);
    expect(waited).toBeLessThan(31 * 60_000);
  }, 60_000);
});
