/**
 * How fast workers take a channel's jobs. What the provider sees is kept to its rate by the pacer
 * (src/platform/pacer.ts), right before each call; this only keeps workers from taking jobs much
 * faster than they can send them.
 *
 * A provider's rate as a BullMQ limiter. BullMQ counts jobs started in fixed windows, so a window of
 * one second with `max = rate` lets a burst at the end of one window and another at the start of the
 * next land within one real second (up to twice the rate). Smaller windows keep any one-second span
 * near the rate: one job per 1000/rate ms up to 20/s, else windows of about 50 ms. In any one second
 * at most `rate + max` jobs start (exactly `rate` when max is 1). Pure.
 */
export interface Limiter {
  max: number;
  duration: number;
}

export function limiterFor(ratePerSecond: number): Limiter {
  if (ratePerSecond <= 20) return { max: 1, duration: Math.ceil(1000 / ratePerSecond) };
  const max = Math.floor(ratePerSecond / 20);
  return { max, duration: Math.ceil((1000 * max) / ratePerSecond) };
}
