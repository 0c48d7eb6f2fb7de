import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '../support/context.js';
import {
  startCandorWeb,
  startWorkerProcess,
  startPrivatePostgres,
  startPrivateRedis,
  type CandorProcess,
  type PrivatePostgres,
  type PrivateRedis,
} from '../support/processes.js';
import { startProviders, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import {
  twilioCallbackHeaders,
  twilioMessageCallback,
  type FakeProviders,
} from '../fakes/provider-server.js';
import { makeIncident } from '../support/factories.js';
import { parseConfig } from '../../src/config.js';
import { createDeps } from '../../src/deps.js';
import { postIncidentUpdate } from '../../src/incidents/service.js';
import { SUPPORTED_LOCALES } from '../../src/platform/i18n.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';

/** Where providers are told to post receipts; signatures cover this URL, not the port we reach. */
const PUBLIC_BASE_URL = 'http://candor.test';

async function readiness(web: CandorProcess): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${web.baseUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

/**
 * The web process as operators start it (`npm run web`), with PostgreSQL or Redis down when it starts
 * and coming back later: it must start, say what is missing, and become ready by itself, never exit.
 * Private servers, so stopping them touches nothing another test file uses.
 */
describe('the web process when PostgreSQL or Redis is down', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let env: Record<string, string>;
  let providers: { fake: FakeProviders; env: Record<string, string> };
  const started: CandorProcess[] = [];

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    await migrate(postgres.url, createLogger({ level: 'silent' }));
    providers = await startProviders();
    env = {
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniqueName('outage'),
      PUBLIC_BASE_URL,
    };
  }, 120_000);

  afterAll(async () => {
    for (const web of started) await web.stop();
    await Promise.all([postgres?.stop(), redis?.stop(), providers?.fake.close()]);
  });

  it('starts with PostgreSQL down, serves the published status page, and becomes ready once PostgreSQL is back', async () => {
    // Published before the outage: the record in PostgreSQL, a copy in Redis.
    const deps = await createDeps(parseConfig({ NODE_ENV: 'test', ...env }), {
      logger: createLogger({ level: 'silent' }),
    });
    const incident = await makeIncident(deps);
    await postIncidentUpdate(deps, {
      incidentId: incident.id,
      texts: { en: { title: 'The backup is deleted', body: 'It is gone from every server.' } },
    });
    await deps.close();

    await postgres.halt();
    const web = await startCandorWeb(env);
    started.push(web);
    // A process that never saw the page before serves it, in every language, from the snapshot.
    for (const lang of SUPPORTED_LOCALES) {
      const page = await fetch(`${web.baseUrl}/incidents/${incident.slug}?lang=${lang}`);
      expect(page.status, lang).toBe(200);
      expect(await page.text()).toContain('The backup is deleted');
      const feed = await fetch(`${web.baseUrl}/incidents/${incident.slug}/feed.atom?lang=${lang}`);
      expect(feed.status, lang).toBe(200);
    }

    expect((await fetch(`${web.baseUrl}/healthz`)).status).toBe(200);
    expect(await readiness(web)).toEqual({
      status: 503,
      body: { status: 'not ready', database: 'unreachable', redis: 'ok' },
    });
    // A page that needs the database answers 503 with a page, not a crash or a 500.
    const lookup = await fetch(`${web.baseUrl}/incidents/anything/check`);
    expect([404, 503]).toContain(lookup.status);

    await postgres.startAgain();
    await eventually(
      'the web process to become ready',
      async () => (await readiness(web)).status === 200,
      30_000,
    );
    expect(web.child.exitCode).toBeNull();
    expect(web.output()).toMatch(/PostgreSQL is not reachable/);
  }, 120_000);

  it('starts with Redis down, says so on /readyz, and becomes ready once Redis is back', async () => {
    await redis.halt();
    const web = await startCandorWeb(env);
    started.push(web);

    expect((await fetch(`${web.baseUrl}/healthz`)).status).toBe(200);
    expect(await readiness(web)).toEqual({
      status: 503,
      body: { status: 'not ready', database: 'ok', redis: 'unreachable' },
    });
    // What needs no Redis still answers: the sign-in page (no session yet), an unknown incident.
    expect((await fetch(`${web.baseUrl}/console/sign-in`)).status).toBe(200);
    expect((await fetch(`${web.baseUrl}/incidents/no-such-incident`)).status).toBe(404);

    await redis.startAgain();
    await eventually(
      'the web process to become ready',
      async () => (await readiness(web)).status === 200,
      30_000,
    );
    expect(web.child.exitCode).toBeNull();
  }, 120_000);

  it('never exits when PostgreSQL stops and restarts while signed receipts arrive', async () => {
    const web = await startCandorWeb({ ...env, ...providers.env });
    started.push(web);
    await eventually('ready', async () => (await readiness(web)).status === 200, 30_000);

    // Each receipt is applied in a transaction on a checked-out client: the kind of client whose
    // lost connection used to end the process.
    let stopSending = false;
    const statuses: number[] = [];
    const sender = async (worker: number) => {
      for (let n = 0; !stopSending; n += 1) {
        const path = `/webhooks/twilio/status?message=${worker * 1_000_000 + n + 1}`;
        const params = twilioMessageCallback(
          TWILIO_ACCOUNT_SID,
          `SM${worker}x${n}`,
          { To: '+447700900123' },
          'delivered',
        );
        const response = await fetch(`${web.baseUrl}${path}`, {
          method: 'POST',
          headers: twilioCallbackHeaders(TWILIO_AUTH_TOKEN, `${PUBLIC_BASE_URL}${path}`, params),
          body: new URLSearchParams(params),
        }).catch(() => null);
        statuses.push(response?.status ?? 0);
      }
    };
    const senders = Promise.all([0, 1, 2, 3].map(sender));
    await eventually('receipts to be flowing', () => Promise.resolve(statuses.length > 20), 30_000);
    await postgres.halt();
    await eventually(
      '/readyz to see PostgreSQL away',
      async () => (await readiness(web)).status === 503,
      30_000,
    );
    const during = statuses.length;
    await eventually(
      'receipts to arrive during the outage',
      () => Promise.resolve(statuses.length > during + 20),
      30_000,
    );
    await postgres.startAgain();
    await eventually('ready again', async () => (await readiness(web)).status === 200, 30_000);
    const after = statuses.length;
    await eventually(
      'receipts to be taken again',
      () => Promise.resolve(statuses.slice(after).some((s) => s < 300)),
      30_000,
    );
    stopSending = true;
    await senders;

    expect(web.child.exitCode).toBeNull();
    // Every receipt got an answer (none found the process gone), and none an internal error.
    expect(statuses).not.toContain(0);
    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
  }, 120_000);

  it('a worker process told to stop while Redis is away still exits', async () => {
    const worker = startWorkerProcess(env);
    // Its workers connect to Redis; then Redis goes, and the process is told to stop.
    const probe = await createDeps(parseConfig({ NODE_ENV: 'test', ...env }), {
      logger: createLogger({ level: 'silent' }),
    });
    await eventually(
      'the worker process to listen',
      async () => (await probe.queues.send.email.getWorkers()).length > 0,
      30_000,
    );
    probe.redis.disconnect();
    await probe.db.end();
    await redis.halt();
    try {
      const code = await worker.stop();
      // 0 when it could close cleanly, 1 when it gave up waiting for Redis: either way it is gone.
      expect([0, 1]).toContain(code);
    } finally {
      await redis.startAgain();
    }
  }, 60_000);
});
