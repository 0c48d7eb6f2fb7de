import pg from 'pg';
import { Redis } from 'ioredis';

/** Checks PostgreSQL and Redis answer, and says exactly how to start whichever does not. */
export async function checkServices(config: { databaseUrl: string; redisUrl: string }): Promise<string[]> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    problems.push(
      `PostgreSQL is not reachable at ${redactUrl(config.databaseUrl)} (${(error as Error).message}).\n` +
        `    Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (Debian packages)\n` +
        `          or: docker compose up -d postgres`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    problems.push(
      `Redis is not reachable at ${redactUrl(config.redisUrl)} (${(error as Error).message}).\n` +
        `    Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379   (Debian package redis-server)\n` +
        `          or: docker compose up -d redis`,
    );
  } finally {
    redis.disconnect();
  }
  return problems;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
