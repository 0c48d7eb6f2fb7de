import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniqueName } from '../support/context.js';
import { createPacer, MARGIN_MS, type Pacer } from '../../src/platform/pacer.js';

/**
 * The pacer against the real Redis, with two connections standing for two worker processes. Times
 * are asserted only as "not before": a slow machine may admit later, never sooner.
 */
const connections: Redis[] = [];
const prefixes: string[] = [];

function twoProcesses(ratePerSecond: number): [Pacer, Pacer] {
  const keyPrefix = uniqueName('pace');
  prefixes.push(keyPrefix);
  const make = () => {
    const redis = new Redis(TEST_REDIS_URL);
    connections.push(redis);
    return createPacer(redis, { keyPrefix, ratePerSecond: { sms: ratePerSecond } });
  };
  return [make(), make()];
}

/** Admits on `pacer`, resolving with when (local clock) it was admitted. */
async function admittedAt(pacer: Pacer, maxWaitMs = 5_000): Promise<number> {
  const admission = await pacer.admit('sms', maxWaitMs);
  expect(admission.waitMs).toBe(0);
  return Date.now();
}

afterAll(async () => {
  const [redis] = connections;
  if (redis) await redis.del(...prefixes.map((prefix) => `${prefix}:pace:sms`));
  for (const connection of connections) connection.disconnect();
});

describe('pacing requests to a provider across processes', () => {
  it('admits one request per (1000 + margin) / rate ms, in order, whichever process asks', async () => {
    const [a, b] = twoProcesses(20);
    const interval = (1000 + MARGIN_MS) / 20;
    expect(a.intervalMs('sms')).toBe(interval);
    const started = Date.now();
    const times = (
      await Promise.all(Array.from({ length: 24 }, (_, i) => admittedAt(i % 2 === 0 ? a : b)))
    ).sort((x, y) => x - y);
    // The first goes at once; the n-th no sooner than n intervals after the start (1 ms: timer rounding).
    times.forEach((time, n) => expect(time - started).toBeGreaterThanOrEqual(n * interval - 1));
  });

  it('holds every request waiting for a slot while the provider asked to pause, then resumes at the rate', async () => {
    const [a, b] = twoProcesses(5);
    const interval = (1000 + MARGIN_MS) / 5;
    const first = await a.admit('sms', 5_000);
    expect(first.waitMs).toBe(0);
    // Three more take the next slots and wait for them...
    const waiting = Array.from({ length: 3 }, (_, i) => admittedAt(i % 2 === 0 ? a : b));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // ...when the first one's 429 comes back.
    const pausedFrom = Date.now();
    const pausedMs = await b.pause('sms', { ms: null, defaultMs: 600, epoch: first.epoch });
    expect(pausedMs).toBeGreaterThanOrEqual(590);
    const times = (await Promise.all(waiting)).sort((x, y) => x - y);
    times.forEach((time, n) => expect(time - pausedFrom).toBeGreaterThanOrEqual(600 + n * interval - 1));
  });

  it('takes one pause for the 429s of requests sent before it began, but honours each Retry-After', async () => {
    const [a, b] = twoProcesses(50);
    const one = await a.admit('sms', 1_000);
    const two = await b.admit('sms', 1_000);
    expect(two.epoch).toBe(one.epoch);
    const first = await a.pause('sms', { ms: null, defaultMs: 300, epoch: one.epoch });
    // The second request was on its way before the pause: its 429 does not push the pause out.
    const second = await b.pause('sms', { ms: null, defaultMs: 300, epoch: two.epoch });
    expect(second).toBeLessThanOrEqual(first);
    // A Retry-After is the provider's word and counts whenever it comes.
    const asked = await b.pause('sms', { ms: 1_500, defaultMs: 300, epoch: two.epoch });
    expect(asked).toBeGreaterThan(1_400);
    // Nor does a shorter one cut the longer pause short.
    expect(await a.pause('sms', { ms: 100, defaultMs: 300, epoch: two.epoch })).toBeGreaterThan(1_300);
  });

  it('tells a caller when the next slot is further off than it may wait, without taking it', async () => {
    const [a, b] = twoProcesses(50);
    const admission = await a.admit('sms', 1_000);
    await a.pause('sms', { ms: 3_000, defaultMs: 300, epoch: admission.epoch });
    const refused = await b.admit('sms', 1_000);
    expect(refused.waitMs).toBeGreaterThan(2_500);
    const again = await b.admit('sms', 1_000);
    expect(again.waitMs).toBeGreaterThan(2_500);
    expect(again.waitMs).toBeLessThanOrEqual(refused.waitMs);
  });
});
