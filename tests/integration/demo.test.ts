import { describe, expect, it } from 'vitest';
import { eventually, startTestContext } from '../support/context.js';
import { seedDemo } from '../../src/demo/seed.js';
import { DEMO_CALLING_HOURS, describeCallingHours, sendDemoNotice } from '../../src/demo/send.js';
import { fixedClock } from '../../src/platform/clock.js';
import { readCampaignProgress, readFailureReasons } from '../../src/campaigns/progress.js';
import { simulatedDemoPeople } from '../../src/demo/simulated-people.js';
import { makeStaffAccount, signedInAgent } from '../support/console.js';

const PEOPLE = 36 + simulatedDemoPeople().length;

/** What `npm run demo` seeds and sends, run against a clock set to `at` with the given calling hours. */
async function runDemoAt(at: string, callingHours: string) {
  const ctx = await startTestContext({
    workers: true,
    clock: fixedClock(new Date(at)),
    // The simulated late email reports its delivery after a second, not the demo's 20.
    env: { CALLING_HOURS: callingHours, SANDBOX_LATE_RECEIPT_SECONDS: '1' },
  });
  try {
    const seed = await seedDemo(ctx.deps, 36);
    const { campaignId, plan } = await sendDemoNotice(ctx.deps, seed);
    return { ctx, campaignId, plan, close: () => ctx.close() };
  } catch (error) {
    await ctx.close();
    throw error;
  }
}

describe('npm run demo at any hour', () => {
  it('sends the same notices over the same channels at 03:00 as at 15:00 UTC', async () => {
    const outcomes: Record<string, number>[] = [];
    for (const at of ['2026-11-30T03:00:00Z', '2026-11-30T15:00:00Z']) {
      const run = await runDemoAt(at, DEMO_CALLING_HOURS);
      try {
        expect(run.plan.held).toEqual([]);
        const rows = await eventually(
          `every demo message settled at ${at}`,
          async () => {
            // One statement, so the fan-out, the counts and the messages still going agree.
            const { rows } = await run.ctx.deps.db.query<{
              channel: string;
              status: string;
              n: number;
              going: number;
              fanned: boolean;
              people: number;
            }>(
              `SELECT channel, status, count(*)::int AS n,
                    count(*) FILTER (WHERE
                      -- Going out now; a call tried again in 30 minutes (by the demo's clock) has settled for now.
                      (status IN ('queued', 'sending', 'unknown') AND (send_after IS NULL OR send_after <= $2))
                      -- Sent, its receipt still to come (a letter has none: 'sent' is where it ends).
                      OR (status = 'sent' AND channel <> 'letter')
                      -- Failed, and not yet followed up on the next channel.
                      OR (status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy') AND fallback IS NULL)
                    )::int AS going,
                    bool_and((SELECT fanout_completed_at IS NOT NULL FROM campaigns WHERE id = $1)) AS fanned,
                    max((SELECT count(DISTINCT person_id) FROM messages WHERE campaign_id = $1))::int AS people
             FROM messages WHERE campaign_id = $1 GROUP BY 1, 2`,
              [run.campaignId, new Date(new Date(at).getTime() + 5 * 60_000)],
            );
            const settled = rows.every((row) => row.fanned && row.going === 0 && row.people === PEOPLE);
            return rows.length > 0 && settled ? rows : undefined;
          },
          60_000,
        );
        outcomes.push(Object.fromEntries(rows.map((row) => [`${row.channel} ${row.status}`, row.n])));
      } finally {
        await run.close();
      }
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    // The simulated recipients fail as they would with a real provider; everyone else is reached.
    expect(Object.keys(outcomes[0]!).sort()).toEqual([
      'email bounced',
      'email delivered',
      'letter sent',
      'sms delivered',
      'sms undelivered',
      'voice answered',
      'voice no_answer',
      'voice queued',
    ]);
  }, 180_000);

  it('shows failures and escalations on the demo campaign’s progress, as a real send would', async () => {
    const run = await runDemoAt('2026-11-30T15:00:00Z', DEMO_CALLING_HOURS);
    try {
      const { db } = run.ctx.deps;
      // Two bounces and two failed SMS moved on; two calls rang out and wait 30 minutes (by the
      // demo's clock, which stands still here) to be tried again before the letter.
      const followedUp = await eventually(
        'the demo’s failures to be followed up',
        async () => {
          const { rows } = await db.query<{ channel: string; status: string; fallback: string }>(
            `SELECT channel, status, fallback FROM messages WHERE campaign_id = $1 AND fallback IS NOT NULL
             ORDER BY channel, status`,
            [run.campaignId],
          );
          return rows.length >= 6 ? rows : undefined;
        },
        60_000,
      );
      expect(followedUp).toEqual([
        { channel: 'email', status: 'bounced', fallback: 'next' },
        { channel: 'email', status: 'bounced', fallback: 'next' },
        { channel: 'sms', status: 'undelivered', fallback: 'next' },
        { channel: 'sms', status: 'undelivered', fallback: 'next' },
        { channel: 'voice', status: 'no_answer', fallback: 'next' },
        { channel: 'voice', status: 'no_answer', fallback: 'next' },
      ]);
      const progress = (await readCampaignProgress(db, run.campaignId))!;
      expect(progress.totals.bounced).toBe(2);
      expect(progress.totals.undelivered).toBe(2);
      const reasons = await readFailureReasons(db, run.campaignId);
      expect(reasons.map((row) => row.reason)).toEqual(
        expect.arrayContaining([
          'simulated: 550 5.1.1 the email account does not exist',
          'simulated: Twilio error 30003, unreachable handset',
          'simulated: nobody answered',
        ]),
      );
      // The campaign's page in the console: each failure, and how many moved on to their next channel.
      // Without a second factor: the demo's clock stands at 15:00, and a code is checked against it.
      const viewer = await signedInAgent(
        run.ctx.baseUrl,
        await makeStaffAccount(run.ctx.deps, 'viewer', { totp: false }),
      );
      const page = await viewer.get(`/console/campaigns/${run.campaignId}`);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(
        /simulated: 550 5\.1\.1 the email account does not exist<\/td>.*?<td data-field="moved-on">2<\/td>/s,
      );
      expect(page.text).toMatch(
        /simulated: Twilio error 30003, unreachable handset<\/td>.*?<td data-field="moved-on">2<\/td>/s,
      );
    } finally {
      await run.close();
    }
  }, 120_000);

  it('says which SMS and calls wait for calling hours, and when they go, when the operator keeps them', async () => {
    const run = await runDemoAt('2026-11-30T03:00:00Z', '08:00-21:00');
    try {
      // 03:00 UTC is 03:00 in London and 04:00 in Paris: both wait for 08:00 local time.
      const held = run.plan.held.map((group) => ({
        channel: group.channel,
        at: group.sendAfter.toISOString(),
        people: group.people,
      }));
      // The demo's callers are French and its texters English; one simulated caller and one
      // simulated texter (README "Rehearsing") are English too.
      expect(held).toEqual([
        { channel: 'voice', at: '2026-11-30T07:00:00.000Z', people: 6 },
        { channel: 'sms', at: '2026-11-30T08:00:00.000Z', people: 7 },
        { channel: 'voice', at: '2026-11-30T08:00:00.000Z', people: 1 },
      ]);
      const text = describeCallingHours(run.plan, '08:00-21:00');
      expect(text).toContain('Waiting for calling hours (08:00-21:00');
      expect(text).toContain('7 SMS at 2026-11-30 08:00 UTC (Europe/London)');
      expect(text).toContain('6 calls at 2026-11-30 07:00 UTC (Europe/Paris)');
    } finally {
      await run.close();
    }
  }, 60_000);
});
