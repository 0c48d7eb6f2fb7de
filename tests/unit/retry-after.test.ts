import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_AFTER_MS,
  parseRateLimitReset,
  parseRetryAfter,
  retryAfterMs,
} from '../../src/platform/retry-after.js';

const NOW = Date.parse('2026-01-15T12:00:00.000Z');

describe('reading how long a provider asked us to wait', () => {
  it('reads Retry-After in whole seconds', () => {
    expect(parseRetryAfter('2', NOW)).toBe(2_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
  });

  it('reads Retry-After as an HTTP date, relative to now', () => {
    expect(parseRetryAfter('Thu, 15 Jan 2026 12:00:05 GMT', NOW)).toBe(5_000);
  });

  it('takes a date already past as no wait at all', () => {
    expect(parseRetryAfter('Thu, 15 Jan 2026 11:59:00 GMT', NOW)).toBe(0);
  });

  it('ignores what is neither seconds nor a date, so the caller falls back to its default', () => {
    for (const garbled of [undefined, null, '', '  ', '1.5', '-3', 'soon', '2s', 'Thu, 99 Foo 2026']) {
      expect(parseRetryAfter(garbled, NOW)).toBeNull();
    }
  });

  it('caps an absurd wait at an hour', () => {
    expect(parseRetryAfter('999999999', NOW)).toBe(MAX_RETRY_AFTER_MS);
  });

  it("reads SendGrid's X-RateLimit-Reset as the moment its window resets", () => {
    expect(parseRateLimitReset(String(NOW / 1000 + 3), NOW)).toBe(3_000);
    expect(parseRateLimitReset('not-a-time', NOW)).toBeNull();
  });

  it('prefers Retry-After to X-RateLimit-Reset, and says null when neither is given', () => {
    expect(retryAfterMs({ retryAfter: '2', rateLimitReset: String(NOW / 1000 + 9) }, NOW)).toBe(2_000);
    expect(retryAfterMs({ rateLimitReset: String(NOW / 1000 + 9) }, NOW)).toBe(9_000);
    expect(retryAfterMs({}, NOW)).toBeNull();
  });
});
