import http from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import {
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
} from '../support/processes.js';
import { parseConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createWebListener } from '../../src/app.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { SUPPORTED_LOCALES } from '../../src/platform/i18n.js';
import { postIncidentUpdate } from '../../src/incidents/service.js';
import { statusCopiesState } from '../../src/status-page/copies.js';
import type { Incident } from '../../src/incidents/store.js';

/**
 * The status page is the last thing standing: with PostgreSQL or Redis stopped (private servers, so
 * nothing shared is touched) it answers 200 with the latest published content in every locale,
 * including locales no process had been asked for before the outage. Each web process checks for
 * newer publishes every 20 ms here (1 s by default), so an outage of a few hundred milliseconds is
 * many times longer than any lifetime a copy has inside Candor.
 */
const REFRESH_MS = 20;
const logger = createLogger({ level: 'silent' });

interface Web {
  deps: Deps;
  server: http.Server;
  close(): Promise<void>;
}

/** A web process of its own (its own memory of the pages), as a second replica would be. */
async function startWeb(env: Record<string, string>): Promise<Web> {
  const deps = await createDeps(parseConfig({ NODE_ENV: 'test', ...env }), { logger });
  const server = http.createServer(createWebListener(deps));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    deps,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Not deps.close(): closing the queues waits for a Redis these tests have stopped.
      deps.redis.disconnect();
      await deps.db.end();
    },
  };
}

async function environment() {
  const [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  await migrate(postgres.url, logger);
  const env = {
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: uniqueName('status'),
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
    STATUS_PAGE_REFRESH_MS: String(REFRESH_MS),
  };
  return { postgres, redis, env };
}

/** Every locale of page and feed answers 200 with `latest` in it; returns where the answers came from. */
async function expectEveryLocale(web: Web, incident: Incident, latest: string): Promise<Set<string>> {
  const sources = new Set<string>();
  for (const lang of SUPPORTED_LOCALES) {
    const page = await request(web.server).get(`/incidents/${incident.slug}?lang=${lang}`).expect(200);
    expect(page.text).toContain(`<html lang="${lang}"`);
    expect(page.text).toContain(latest);
    const feed = await request(web.server)
      .get(`/incidents/${incident.slug}/feed.atom?lang=${lang}`)
      .expect(200);
    expect(feed.text).toContain(`xml:lang="${lang}"`);
    expect(feed.text).toContain(`<title>${latest}</title>`);
    sources.add(String(page.headers['x-candor-cache'])).add(String(feed.headers['x-candor-cache']));
  }
  return sources;
}

/** Waits until `web` has checked for newer publishes `times` more times, the page answering throughout. */
async function outlastRefreshes(web: Web, incident: Incident, latest: string, times: number) {
  const start = statusCopiesState(web.deps).refreshes;
  await eventually(`${times} refreshes during the outage`, async () => {
    const page = await request(web.server).get(`/incidents/${incident.slug}`).expect(200);
    expect(page.text).toContain(latest);
    return statusCopiesState(web.deps).refreshes >= start + times;
  });
}

describe('the status page with PostgreSQL down', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let publisher: Web;
  let replica: Web;
  let lateReplica: Web;
  let incident: Incident;
  let postgresRunning = true;
  let redisRunning = true;
  const latest = 'Passwords reset for everyone';

  beforeAll(async () => {
    const services = await environment();
    ({ postgres, redis } = services);
    publisher = await startWeb(services.env);
    replica = await startWeb(services.env);
    incident = await makeIncident(publisher.deps);
    await postIncidentUpdate(publisher.deps, {
      incidentId: incident.id,
      texts: { en: { title: 'Access closed', body: 'The way in is shut.' } },
    });
    await postIncidentUpdate(publisher.deps, {
      incidentId: incident.id,
      texts: { en: { title: latest, body: 'Every customer password was reset.' } },
    });
    lateReplica = await startWeb(services.env);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([publisher, replica, lateReplica].map((web) => web?.close()));
    // Both were stopped by the tests, unless one failed before it could.
    if (redisRunning) await redis?.stop();
    if (postgresRunning) await postgres?.stop();
  });

  it('answers every locale of page and feed with the latest publish, from Redis, however long it lasts', async () => {
    postgresRunning = false;
    await postgres.stop();
    await outlastRefreshes(replica, incident, latest, 5);
    expect(statusCopiesState(replica.deps).lastProblem).toMatch(/postgres/);
    // Nothing was asked of this replica before the outage: every page comes from the Redis copy.
    expect(await expectEveryLocale(replica, incident, latest)).toEqual(new Set(['redis', 'memory']));
    expect(await expectEveryLocale(publisher, incident, latest)).toEqual(new Set(['memory']));
    const home = await request(replica.server).get('/?lang=hi').expect(303);
    expect(home.headers.location).toBe(`/incidents/${incident.slug}?lang=hi`);
  });

  it('keeps answering from memory when Redis goes too, and says 503, not 500, for a page no copy holds', async () => {
    redisRunning = false;
    await redis.stop();
    await outlastRefreshes(replica, incident, latest, 5);
    expect(await expectEveryLocale(replica, incident, latest)).toEqual(new Set(['memory']));
    // A process that never held the page and can reach no copy of it cannot invent it.
    await request(lateReplica.server).get(`/incidents/${incident.slug}`).expect(503);
  });
});

describe('the status page with Redis down', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let publisher: Web;
  let replica: Web;
  let incident: Incident;
  let redisRunning = true;

  beforeAll(async () => {
    const services = await environment();
    ({ postgres, redis } = services);
    publisher = await startWeb(services.env);
    replica = await startWeb(services.env);
    incident = await makeIncident(publisher.deps);
    await postIncidentUpdate(publisher.deps, {
      incidentId: incident.id,
      texts: { en: { title: 'Cards blocked', body: 'Your bank has blocked the exposed cards.' } },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([publisher, replica].map((web) => web?.close()));
    if (redisRunning) await redis?.stop();
    await postgres?.stop();
  });

  it('puts every page back into a flushed Redis, not only the pages asked for', async () => {
    await redis.flushAll();
    await request(replica.server).get(`/incidents/${incident.slug}?lang=pt`).expect(200);
    const prefix = publisher.deps.config.queuePrefix;
    const keys = SUPPORTED_LOCALES.flatMap((lang) => [
      `${prefix}:status:doc:${lang}:/incidents/${incident.slug}`,
      `${prefix}:status:doc:${lang}:/incidents/${incident.slug}/feed.atom`,
      `${prefix}:status:doc:${lang}:/`,
    ]);
    await eventually('Redis to hold every page again', async () => {
      const present = await publisher.deps.redis.exists(...keys);
      const version = await publisher.deps.redis.get(`${prefix}:status:version`);
      return present === keys.length && Number(version) > 0;
    });
  });

  it('answers every locale of page and feed from PostgreSQL, and shows a publish made meanwhile', async () => {
    redisRunning = false;
    await redis.stop();
    await outlastRefreshes(replica, incident, 'Cards blocked', 5);
    expect(statusCopiesState(replica.deps).lastProblem).toMatch(/redis/);
    const sources = await expectEveryLocale(replica, incident, 'Cards blocked');
    expect(sources.has('postgres')).toBe(true);

    const later = 'New cards are in the post';
    await postIncidentUpdate(publisher.deps, {
      incidentId: incident.id,
      texts: { en: { title: later, body: 'Expect them within a week.' } },
    });
    await eventually('the replica to show the publish made while Redis was down', async () => {
      const page = await request(replica.server).get(`/incidents/${incident.slug}?lang=pt`).expect(200);
      return page.text.includes(later);
    });
    await expectEveryLocale(replica, incident, later);
  });
});
