import { describe, expect, it } from 'vitest';
import { eventually, startTestContext } from '../support/context.js';
import { seedDemo } from '../../src/demo/seed.js';
import { DEMO_CALLING_HOURS, describeCallingHours, sendDemoNotice } from '../../src/demo/send.js';
import { fixedClock } from '../../src/platform/clock.js';

/** What `npm run demo` seeds and sends, run against a clock set to `at` with the given calling hours. */
async function runDemoAt(at: string, callingHours: string) {
  const ctx = await startTestContext({
    workers: true,
    clock: fixedClock(new Date(at)),
    env: { CALLING_HOURS: callingHours },
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
        const rows = await eventually(`every demo message sent at ${at}`, async () => {
          const { rows } = await run.ctx.deps.db.query<{ channel: string; status: string; n: number }>(
            `SELECT channel, status, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY 1, 2`,
            [run.campaignId],
          );
          const total = rows.reduce((sum, row) => sum + row.n, 0);
          // Settled: every message's receipt is in (a letter has none: 'sent' is where it ends).
          const going = rows.some(
            (row) =>
              ['queued', 'sending', 'unknown'].includes(row.status) ||
              (row.status === 'sent' && row.channel !== 'letter'),
          );
          return total === 36 && !going ? rows : undefined;
        });
        outcomes.push(Object.fromEntries(rows.map((row) => [`${row.channel} ${row.status}`, row.n])));
      } finally {
        await run.close();
      }
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(Object.keys(outcomes[0]!).sort()).toEqual([
      'email delivered',
      'letter sent',
      'sms delivered',
      'voice answered',
    ]);
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
      // The demo's callers are French and its texters English.
      expect(held).toEqual([
        { channel: 'voice', at: '2026-11-30T07:00:00.000Z', people: 6 },
        { channel: 'sms', at: '2026-11-30T08:00:00.000Z', people: 6 },
      ]);
      const text = describeCallingHours(run.plan, '08:00-21:00');
      expect(text).toContain('Waiting for calling hours (08:00-21:00');
      expect(text).toContain('6 SMS at 2026-11-30 08:00 UTC (Europe/London)');
      expect(text).toContain('6 calls at 2026-11-30 07:00 UTC (Europe/Paris)');
    } finally {
      await run.close();
    }
  }, 60_000);
});
