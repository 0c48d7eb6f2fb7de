import pg from 'pg';
import { createRedisConnection, type RedisSettings } from './redis.js';

/** Checks PostgreSQL and Redis answer, and says exactly how to start whichever does not. */
export async function checkServices(config: { databaseUrl: string } & RedisSettings): Promise<string[]> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    problems.push(postgresProblem(config.databaseUrl, (error as Error).message));
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = createRedisConnection(config, 'check');
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const message = (error as Error).message;
    problems.push(
      config.redisClusterNodes.length > 0
        ? `Redis Cluster is not reachable at ${config.redisClusterNodes.map((node) => `${node.host}:${node.port}`).join(', ')} (${message}).\n    Check that these nodes run Redis with cluster-enabled yes and that REDIS_CLUSTER_NODES is right.`
        : redisProblem(config.redisUrl, message),
    );
  } finally {
    redis.disconnect();
  }
  return problems;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const COMPOSE_SERVICES = 'docker compose -f docker-compose.yml -f docker-compose.services.yml up -d';

/** What to do when PostgreSQL does not answer or refuses the login, for the address configured. */
export function postgresProblem(databaseUrl: string, message: string): string {
  const url = new URL(databaseUrl);
  const head = `PostgreSQL is not reachable at ${redactUrl(databaseUrl)} (${message}).`;
  if (/password|authentication/i.test(message)) {
    const user = decodeURIComponent(url.username) || 'postgres';
    return (
      `${head}\n` +
      `    PostgreSQL wants a password for ${user} (stock Debian does for logins over 127.0.0.1). Give it one:\n` +
      `      sudo -u postgres psql -c "ALTER USER ${user} PASSWORD 'choose-one'"\n` +
      `    and put it in DATABASE_URL, e.g. postgres://${user}:choose-one@${url.host}${url.pathname}`
    );
  }
  if (!LOCAL_HOSTS.has(url.hostname))
    return `${head}\n    Check that ${url.host} runs PostgreSQL and that DATABASE_URL is right.`;
  return (
    `${head}\n` +
    `    Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (Debian packages)\n` +
    `          or: CANDOR_POSTGRES_PORT=${url.port || '5432'} ${COMPOSE_SERVICES} postgres\n` +
    `              with DATABASE_URL=postgres://candor:candor@${url.hostname}:${url.port || '5432'}/candor`
  );
}

/** What to do when Redis does not answer, naming the host and port REDIS_URL gives. */
export function redisProblem(redisUrl: string, message: string): string {
  const url = new URL(redisUrl);
  const port = url.port || '6379';
  const head = `Redis is not reachable at ${redactUrl(redisUrl)} (${message}).`;
  if (!LOCAL_HOSTS.has(url.hostname))
    return `${head}\n    Check that ${url.hostname}:${port} runs Redis and that REDIS_URL is right.`;
  const bind = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
  return (
    `${head}\n` +
    `    Start it: redis-server --daemonize yes --bind ${bind} --port ${port} --maxmemory-policy noeviction   (Debian package redis-server)\n` +
    `          or: CANDOR_REDIS_PORT=${port} ${COMPOSE_SERVICES} redis`
  );
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
