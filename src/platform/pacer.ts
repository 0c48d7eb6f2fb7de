import type { RedisConnection } from './redis.js';
import { createBatcher } from './batch.js';

/**
 * Admission to a provider, shared by every worker process through Redis: a request may go only when
 * the pacer admits it, immediately before the HTTP call, so the varying work before it (claiming,
 * decrypting, rendering) cannot bunch requests up.
 *
 * Each key is paced evenly, one request per `interval`, with slots handed out in order (GCRA with
 * no burst; Redis `TIME` is the one clock, so the processes' own clocks do not matter). Evenly spaced
 * slots hold at most `rate` in any span of `rate × interval`. A request reaches the provider a
 * little after its slot, and that delay varies (the event loop, the HTTP call over the network):
 * with `interval = (1000 + MARGIN_MS) / rate`, any one second at the provider holds only requests
 * whose slots lie within `1000 + jitter` ms, so no more than `rate` of them as long as the jitter
 * stays under the margin.
 *
 * A provider's 429 pauses the key: no slot before the pause ends, across every process. Slots
 * already handed out to callers still waiting for them are voided (the pause bumps the key's
 * epoch, and a caller that waited more than a few ms looks at it before going), so nothing but
 * what was already on its way reaches the provider while it asked us to wait.
 */

/**
 * The jitter the pacing absorbs between a slot and the provider seeing the request. Measured with
 * `npm run bench provider-rate` (50/s, two worker processes, this 2-core machine under a load
 * average of 10-17 from other test runs): with no late-slot rule and a 50 ms margin, the shortest
 * span holding 51 requests was 995 ms: jitter reached 55 ms and one sliding second held 51. With the
 * rule, a 50 ms margin held in steady runs (1028-1186 ms) but one burst run still saw 51: the delay
 * after the HTTP call begins (either process waiting for a CPU) passed the 30 ms left. At 100 ms, four
 * steady runs (shortest spans 1083-1166 ms) and a run of every scenario stayed within the rate.
 * It costs `MARGIN_MS / 10` per cent of the rate (50/s paces at 45.5/s); a provider far away over
 * the internet may need more.
 */
export const MARGIN_MS = 100;

/**
 * A slot this late by the time its caller could use it is given up for a later one (see admit):
 * the most a request can lag its slot before the HTTP call begins, leaving the rest of the margin
 * for the call itself. Under a heavy load this gives up slots, and the rate achieved drops.
 */
const LATE_MS = 20;

/** A caller that waited longer than this for its slot checks no pause began meanwhile. */
const CONFIRM_AFTER_MS = 5;

/** What `admit` says: go now, or come back later. */
export interface Admission {
  /** 0: admitted, go now. Otherwise: no slot within `maxWaitMs`; the earliest is about this far away. */
  waitMs: number;
  /** The key's epoch when admitted: a 429 to this request pauses the key only if no pause came since. */
  epoch: number;
}

export interface Pacer {
  /** Ms between two requests on `key` (its rate with the margin). */
  intervalMs(key: string): number;
  /**
   * Waits for a slot on `key` up to `maxWaitMs`; see Admission. `weight` (default 1): a request that
   * carries that many messages (an email batch) takes that many consecutive slots and goes at the
   * last of them, so a rate in messages per second holds for batches too.
   */
  admit(key: string, maxWaitMs: number, weight?: number): Promise<Admission>;
  /**
   * Pauses `key` for `ms` (the provider's Retry-After), or — `ms` null — for `defaultMs` unless a
   * pause already began since `epoch` (that 429 answered a request sent before the pause, and says
   * nothing new). Resolves with how long the key is paused from now.
   */
  pause(key: string, options: { ms: number | null; defaultMs: number; epoch: number }): Promise<number>;
}

/*
 * KEYS[1]: the key's hash: `next`, the earliest time (ms, Redis clock) of the next slot; `epoch`, bumped
 * by each pause; `paused`, when the latest pause ends. Times are kept to the microsecond as strings.
 */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'next', 'epoch', 'paused')
local next = tonumber(state[1]) or 0
local epoch = tonumber(state[2]) or 0
local paused = tonumber(state[3]) or 0
local function ms(value) return string.format('%.3f', value) end
`;

/*
 * ARGV: interval ms, ttl ms, then each caller's max wait ms and weight. Returns the epoch, then for
 * each caller `a<wait ms>` (its `weight` slots taken, `next` moved on by as many intervals, the wait
 * being to the last of them) or `r<wait ms>` (not within its max wait; nothing taken).
 */
const ADMIT = `${NOW}
local interval = tonumber(ARGV[1])
local out = {epoch}
local taken = false
for i = 3, #ARGV, 2 do
  local slot = math.max(next, now) + (tonumber(ARGV[i + 1]) - 1) * interval
  if slot - now > tonumber(ARGV[i]) then
    table.insert(out, 'r' .. ms(slot - now))
  else
    next = slot + interval
    taken = true
    table.insert(out, 'a' .. ms(slot - now))
  end
end
if taken then
  redis.call('HSET', KEYS[1], 'next', ms(next))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return out
`;

/*
 * ARGV: pause ms ('' = the provider did not say), default ms, epoch of the 429'd request, the least
 * time from now to the next slot (ms), ttl ms. Returns how long the key is paused from now, ms.
 *
 * Slots further off than CONFIRM_AFTER_MS are voided (epoch + 1); nearer ones may be sent, so the
 * next slot is no sooner than one interval after the last of those, even when the pause is shorter.
 * A pause never shortens an earlier one.
 */
const PAUSE = `${NOW}
local pause
if ARGV[1] ~= '' then
  pause = tonumber(ARGV[1])
elseif epoch ~= tonumber(ARGV[3]) then
  return ms(math.max(0, paused - now))
else
  pause = tonumber(ARGV[2])
end
paused = math.max(paused, now + pause)
local resume = math.max(paused, math.min(next, now + tonumber(ARGV[4])))
redis.call('HSET', KEYS[1], 'next', ms(resume), 'epoch', epoch + 1, 'paused', ms(paused))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return ms(resume - now)
`;

/** The hash outlives any pause and any slot handed out, then goes: an idle key costs nothing. */
const MIN_TTL_MS = 60 * 60 * 1000;

export function createPacer(
  redis: RedisConnection,
  options: { keyPrefix: string; ratePerSecond: Record<string, number> },
): Pacer {
  const interval = (key: string) => {
    const rate = options.ratePerSecond[key];
    if (rate === undefined) throw new Error(`no rate for pacing key ${key}`);
    return (1000 + MARGIN_MS) / rate;
  };
  const redisKey = (key: string) => `${options.keyPrefix}:pace:${key}`;
  const ttl = (key: string) => String(Math.ceil(Math.max(MIN_TTL_MS, interval(key) * 10)));

  interface Slot {
    waitMs: number;
    epoch: number;
    admitted: boolean;
  }
  // The slots asked for on one key within one turn of the event loop go in one script call.
  const takers = new Map<string, (ask: { maxWaitMs: number; weight: number }) => Promise<Slot>>();
  const take = (key: string, maxWaitMs: number, weight: number) => {
    let taker = takers.get(key);
    if (!taker) {
      taker = createBatcher({
        run: async (asks: { maxWaitMs: number; weight: number }[]) => {
          const [epoch, ...slots] = (await redis.eval(
            ADMIT,
            1,
            redisKey(key),
            String(interval(key)),
            ttl(key),
            ...asks.flatMap((ask) => [String(ask.maxWaitMs), String(ask.weight)]),
          )) as [number | string, ...string[]];
          return slots.map((slot) => ({
            waitMs: Number(slot.slice(1)),
            epoch: Number(epoch),
            admitted: slot.startsWith('a'),
          }));
        },
      });
      takers.set(key, taker);
    }
    return taker({ maxWaitMs, weight });
  };

  return {
    intervalMs: interval,
    async admit(key, maxWaitMs, weight = 1) {
      const deadline = Date.now() + maxWaitMs;
      let gaveUpOne = false;
      for (;;) {
        const slot = await take(key, Math.max(0, deadline - Date.now()), Math.max(1, Math.floor(weight)));
        // Measured from the answer, not the question: the round trip to Redis (and the batching
        // before it) is not lateness, and counting it made every slot look late on a busy machine.
        const answered = performance.now();
        if (!slot.admitted) return { waitMs: Math.max(1, Math.ceil(slot.waitMs)), epoch: slot.epoch };
        if (slot.waitMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, Math.ceil(slot.waitMs)));
          // A 429 while we waited voids the slot: ask again (the next slot comes after the pause).
          // A slot a few ms off is as good as sent already, like a request the 429 overtook, and
          // asking would cost more than the wait.
          if (slot.waitMs > CONFIRM_AFTER_MS) {
            const epoch = Number((await redis.hget(redisKey(key), 'epoch')) ?? 0);
            if (epoch !== slot.epoch) continue;
          }
        }
        // Well past its slot (this process was not given the CPU, or its event loop was busy), the
        // request would reach the provider squeezed against the next ones and eat into the margin:
        // give the slot up and take another — once, since every slot given up also delays the rest.
        if (gaveUpOne || performance.now() - answered - slot.waitMs <= LATE_MS)
          return { waitMs: 0, epoch: slot.epoch };
        gaveUpOne = true;
      }
    },
    async pause(key, { ms, defaultMs, epoch }) {
      const left = (await redis.eval(
        PAUSE,
        1,
        redisKey(key),
        ms === null ? '' : String(ms),
        String(defaultMs),
        String(epoch),
        String(CONFIRM_AFTER_MS + interval(key)),
        String(Math.max(Number(ttl(key)), (ms ?? defaultMs) * 2)),
      )) as string;
      return Math.ceil(Number(left));
    },
  };
}
