import { describe, expect, it } from 'vitest';
import {
  earliestSendTime,
  withinCallingHours,
  zoneOrDefault,
  zonedTime,
} from '../../src/campaigns/calling-hours.js';

const hours = { startMinute: 8 * 60, endMinute: 21 * 60 };

describe('calling hours', () => {
  it('defers an SMS at 23:00 local to 08:00 local the next morning', () => {
    // 23:00 in New York (EDT, UTC-4) is 03:00 UTC the next day.
    const at = new Date('2026-06-11T03:00:00Z');
    expect(earliestSendTime(at, 'sms', 'America/New_York', hours).toISOString()).toBe(
      '2026-06-11T12:00:00.000Z',
    );
  });

  it('defers a call at 06:30 local to 08:00 the same day', () => {
    const at = new Date('2026-01-15T05:30:00Z'); // 06:30 in Paris (CET, UTC+1)
    expect(earliestSendTime(at, 'voice', 'Europe/Paris', hours).toISOString()).toBe(
      '2026-01-15T07:00:00.000Z',
    );
  });

  it('sends at once inside the window', () => {
    const at = new Date('2026-01-15T12:00:00Z');
    expect(earliestSendTime(at, 'sms', 'Europe/London', hours)).toEqual(at);
  });

  it('never holds back email or letters', () => {
    const at = new Date('2026-01-15T02:00:00Z');
    expect(earliestSendTime(at, 'email', 'Europe/London', hours)).toEqual(at);
    expect(earliestSendTime(at, 'letter', 'Europe/London', hours)).toEqual(at);
  });

  it('treats the end of the window as closed and its start as open', () => {
    expect(withinCallingHours(new Date('2026-01-15T21:00:00Z'), 'UTC', hours)).toBe(false);
    expect(withinCallingHours(new Date('2026-01-15T20:59:59Z'), 'UTC', hours)).toBe(true);
    expect(withinCallingHours(new Date('2026-01-15T08:00:00Z'), 'UTC', hours)).toBe(true);
  });

  it('finds 08:00 across a daylight-saving change', () => {
    // Clocks in London go forward at 01:00 UTC on 29 March 2026; 08:00 BST is 07:00 UTC.
    expect(zonedTime({ year: 2026, month: 3, day: 29 }, 8 * 60, 'Europe/London').toISOString()).toBe(
      '2026-03-29T07:00:00.000Z',
    );
    expect(zonedTime({ year: 2026, month: 3, day: 28 }, 8 * 60, 'Europe/London').toISOString()).toBe(
      '2026-03-28T08:00:00.000Z',
    );
  });

  it('rolls over the end of a month', () => {
    const at = new Date('2026-01-31T22:30:00Z');
    expect(earliestSendTime(at, 'sms', 'UTC', hours).toISOString()).toBe('2026-02-01T08:00:00.000Z');
  });

  it('uses the default zone for a person without one, or with one that does not exist', () => {
    expect(zoneOrDefault(null, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(zoneOrDefault('Mars/Olympus_Mons', 'UTC')).toBe('UTC');
    expect(zoneOrDefault('Asia/Tokyo', 'UTC')).toBe('Asia/Tokyo');
  });
});
