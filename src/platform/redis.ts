import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * The web side's Redis connection. It fails fast while Redis is away (no offline queue: a request
 * answers 503 rather than hang), and reconnects by itself with ioredis's backoff, so the process
 * starts and keeps serving what does not need Redis.
 */
export async function createWebRedis(redisUrl: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection error'));
  // Connected before the first request when Redis is up; when it is not, start anyway and keep trying.
  await redis
    .connect()
    .catch((error: unknown) =>
      logger.warn(
        { err: (error as Error).message },
        'Redis is not reachable yet; reconnecting in the background',
      ),
    );
  return redis;
}

/** Whether a Redis command failed because Redis is not there, rather than because the command is wrong. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|Redis is not connected/.test(error.message)
  );
}

/**
 * BullMQ waits for a connection's first 'ready' however long it takes, so adding a job while Redis
 * has been away since start would hang the request. Callers on the web side check this first.
 */
export function redisIsReady(redis: Pick<Redis, 'status'>): boolean {
  return redis.status === 'ready';
}
