import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

/** One Redis server or a Redis Cluster: both answer the same commands. */
export type RedisConnection = Redis | Cluster;

export interface RedisSettings {
  redisUrl: string;
  redisClusterNodes: readonly { host: string; port: number }[];
}

/**
 * What a connection is for. `web` fails fast while Redis is away (no offline queue, one retry);
 * `worker` retries forever, as BullMQ requires of connections that block; `check` tries once.
 */
export type RedisPurpose = 'web' | 'worker' | 'check';

const OPTIONS: Record<RedisPurpose, RedisOptions> = {
  web: { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true },
  worker: { maxRetriesPerRequest: null },
  check: { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null },
};

/**
 * The one way Candor connects to Redis: to REDIS_URL, or, when REDIS_CLUSTER_NODES names some nodes,
 * to that cluster with REDIS_URL's user, password and TLS. Every caller gets its connection here.
 */
export function createRedisConnection(settings: RedisSettings, purpose: RedisPurpose): RedisConnection {
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = OPTIONS[purpose];
  if (settings.redisClusterNodes.length === 0) return new Redis(settings.redisUrl, OPTIONS[purpose]);
  const url = new URL(settings.redisUrl);
  return new Cluster([...settings.redisClusterNodes], {
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: retryStrategy }),
    redisOptions: {
      ...perNode,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/**
 * The web side's Redis connection. It fails fast while Redis is away (no offline queue: a request
 * answers 503 rather than hang), and reconnects by itself with ioredis's backoff, so the process
 * starts and keeps serving what does not need Redis.
 */
export async function createWebRedis(settings: RedisSettings, logger: Logger): Promise<RedisConnection> {
  const redis = createRedisConnection(settings, 'web');
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
export function redisIsReady(redis: Pick<RedisConnection, 'status'>): boolean {
  return redis.status === 'ready';
}
