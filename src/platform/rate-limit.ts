import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisConnection } from './redis.js';

export interface RateLimit {
  /** Counts one attempt for `key`; says whether it is allowed and, if not, when to try again. */
  consume(key: string): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
  reset(key: string): Promise<void>;
}

/** A limit held in Redis, so it holds across every web process. */
export function createRateLimit(
  deps: { redis: RedisConnection; config: { queuePrefix: string } },
  options: { name: string; points: number; durationSeconds: number; blockSeconds?: number },
): RateLimit {
  const limiter = new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: `${deps.config.queuePrefix}:ratelimit:${options.name}`,
    points: options.points,
    duration: options.durationSeconds,
    ...(options.blockSeconds ? { blockDuration: options.blockSeconds } : {}),
  });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes)
          return { allowed: false, retryAfterSeconds: Math.ceil(rejection.msBeforeNext / 1000) };
        throw rejection;
      }
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

/** Consumes one point from every limit (all of them, so a refusal never hides which one counted). */
export async function consumeAll(
  checks: readonly { limit: RateLimit; key: string }[],
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const results = await Promise.all(checks.map(({ limit, key }) => limit.consume(key)));
  const refused = results.filter((result) => !result.allowed);
  if (refused.length === 0) return { allowed: true };
  return {
    allowed: false,
    retryAfterSeconds: Math.max(...refused.map((result) => (result.allowed ? 0 : result.retryAfterSeconds))),
  };
}
