/**
 * How long a provider asked us to wait, from the headers of its 429. Pure: `nowMs` is passed in.
 *
 * `Retry-After` (RFC 9110 §10.2.3) is either whole seconds or an HTTP date. SendGrid answers 429
 * with `X-RateLimit-Reset` (Unix seconds when its window resets) rather than `Retry-After`, so that
 * counts too when `Retry-After` is absent. Anything unreadable counts as absent: the caller then
 * rests for its own short default instead of trusting a garbled header.
 */

/** No provider asks for more than this in practice; a larger value is a garbled header or a clock gone wrong. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return clamp(Number(text) * 1000);
  // An HTTP date always names a weekday or a month; requiring a letter keeps "1.5" or "-3" out of Date.parse.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : clamp(at - nowMs);
}

export function parseRateLimitReset(value: string | undefined | null, nowMs: number): number | null {
  const text = value?.trim();
  if (!text || !/^\d+$/.test(text)) return null;
  return clamp(Number(text) * 1000 - nowMs);
}

/** The wait a provider's 429 headers ask for, in ms, or null when they do not say. */
export function retryAfterMs(
  headers: { retryAfter?: string | null; rateLimitReset?: string | null },
  nowMs: number,
): number | null {
  return parseRetryAfter(headers.retryAfter, nowMs) ?? parseRateLimitReset(headers.rateLimitReset, nowMs);
}

function clamp(ms: number): number | null {
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}
