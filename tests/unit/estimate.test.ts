import { describe, expect, it } from 'vitest';
import { estimateCompletion } from '../../src/campaigns/estimate.js';

const rates = { email: 100, sms: 1, voice: 1, letter: 50 };
const callingHours = { startMinute: 8 * 60, endMinute: 21 * 60 };

describe('estimated completion', () => {
  it('divides what is left by the rate for channels without calling hours', () => {
    const [email] = estimateCompletion({
      now: new Date('2026-01-15T12:00:00Z'),
      workloads: [{ channel: 'email', byTimeZone: { UTC: 10_000 } }],
      ratePerSecond: rates,
      callingHours,
    });
    expect(email!.seconds).toBe(100);
    expect(email!.remaining).toBe(10_000);
  });

  it('waits for the morning before the first SMS at night', () => {
    const [sms] = estimateCompletion({
      now: new Date('2026-01-15T22:00:00Z'),
      workloads: [{ channel: 'sms', byTimeZone: { UTC: 60 } }],
      ratePerSecond: rates,
      callingHours,
    });
    // Opens at 08:00 the next day, then one a second.
    expect(sms!.finishesAt!.toISOString()).toBe('2026-01-16T08:01:00.000Z');
  });

  it('spreads over several days when the window cannot hold it all', () => {
    const perDay = 13 * 3600; // 13 open hours at one a second
    const [voice] = estimateCompletion({
      now: new Date('2026-01-15T08:00:00Z'),
      workloads: [{ channel: 'voice', byTimeZone: { UTC: perDay + 600 } }],
      ratePerSecond: rates,
      callingHours,
    });
    expect(voice!.finishesAt!.toISOString()).toBe('2026-01-16T08:10:00.000Z');
  });

  it('goes faster while people in another time zone are still inside their window', () => {
    const now = new Date('2026-01-15T20:00:00Z');
    const [oneZone] = estimateCompletion({
      now,
      workloads: [{ channel: 'sms', byTimeZone: { UTC: 7200 } }],
      ratePerSecond: rates,
      callingHours,
    });
    const [twoZones] = estimateCompletion({
      now,
      workloads: [{ channel: 'sms', byTimeZone: { UTC: 3600, 'America/New_York': 3600 } }],
      ratePerSecond: rates,
      callingHours,
    });
    expect(twoZones!.finishesAt!.getTime()).toBeLessThan(oneZone!.finishesAt!.getTime());
    expect(twoZones!.finishesAt!.toISOString()).toBe('2026-01-15T22:00:00.000Z');
  });

  it('finishes now when nothing is left', () => {
    const [letter] = estimateCompletion({
      now: new Date('2026-01-15T12:00:00Z'),
      workloads: [{ channel: 'letter', byTimeZone: {} }],
      ratePerSecond: rates,
      callingHours,
    });
    expect(letter!.seconds).toBe(0);
  });
});
