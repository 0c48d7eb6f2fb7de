import { describe, expect, it } from 'vitest';
import { limiterFor } from '../../src/campaigns/rate-limit.js';

/** The most job starts a fixed-window limiter allows in any one-second span (bursts at window edges). */
function worstSecond(limiter: { max: number; duration: number }): number {
  return limiter.max * (Math.floor(999 / limiter.duration) + 1);
}

describe('provider rate as a BullMQ limiter', () => {
  it('spaces slow channels one send at a time so no second ever holds more than the rate', () => {
    for (const rate of [1, 3, 7, 10, 20]) {
      const limiter = limiterFor(rate);
      expect(limiter.max).toBe(1);
      expect(worstSecond(limiter)).toBeLessThanOrEqual(rate);
    }
  });

  it('allows less than one a second', () => {
    expect(limiterFor(0.5)).toEqual({ max: 1, duration: 2000 });
  });

  it('keeps fast channels within the rate plus one small window', () => {
    for (const rate of [21, 100, 250, 1000]) {
      const limiter = limiterFor(rate);
      expect((limiter.max * 1000) / limiter.duration).toBeLessThanOrEqual(rate);
      expect(worstSecond(limiter)).toBeLessThanOrEqual(rate + limiter.max);
    }
  });
});
