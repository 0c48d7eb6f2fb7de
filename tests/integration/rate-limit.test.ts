import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeApprovedCampaign } from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import { startWorkerProcess, type WorkerProcess } from '../support/processes.js';
import type { FakeProviders } from '../fakes/provider-server.js';
import { fixedClock } from '../../src/platform/clock.js';
import { campaignProgress, startCampaign } from '../../src/campaigns/service.js';

const RATE = 4;
const PEOPLE = 24;
/**
 * The limiter admits jobs; the provider sees requests a little later, after the claim, the
 * decryption, the rendering and the HTTP call, and that delay varies from one send to the next.
 * We allow each request up to this much variable delay: no window of (1000 − JITTER) ms may hold
 * more than RATE requests, and no full second more than RATE + 1.
 */
const JITTER_MS = 100;

describe('provider rate limits across worker processes', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    // Noon UTC: inside calling hours for the people below; the workers use the real clock, so the
    // people live in a zone where it is calling hours whenever the test runs.
    ctx = await startTestContext({ env: providers.env, clock: fixedClock(new Date('2026-01-15T12:00:00Z')) });
    const env = {
      ...providers.env,
      DATABASE_URL: ctx.config.databaseUrl,
      REDIS_URL: ctx.config.redisUrl,
      QUEUE_PREFIX: ctx.config.queuePrefix,
      PUBLIC_BASE_URL: ctx.baseUrl,
      SEND_CONCURRENCY: '10',
      SMS_RATE_PER_SECOND: String(RATE),
      CALLING_HOURS: '00:00-24:00',
      RECONCILE_EVERY_SECONDS: '1',
    };
    workers.push(startWorkerProcess(env), startWorkerProcess(env));
    await eventually(
      'both worker processes to listen on the SMS queue',
      async () => (await ctx.deps.queues.send.sms.getWorkers()).length >= 2,
      30_000,
    );
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await ctx?.close();
    await fake?.close();
  });

  it(`never lets the provider see more than ${RATE} SMS in any one second, with two worker processes sending`, async () => {
    const incident = await makeIncident(ctx.deps);
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: PEOPLE }, (_, i) =>
        makePerson({ email: null, phone: `+4474005580${String(i).padStart(2, '0')}`, timeZone: 'UTC' }),
      ),
    );
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    await fake.waitFor(
      (requests) => requests.filter((r) => r.kind === 'twilio-sms').length >= PEOPLE,
      30_000,
    );
    const times = fake.requests
      .filter((r) => r.kind === 'twilio-sms')
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b);
    const most = (windowMs: number) =>
      Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + windowMs).length));
    expect(times).toHaveLength(PEOPLE);
    expect(most(1000 - JITTER_MS)).toBeLessThanOrEqual(RATE);
    expect(most(1000)).toBeLessThanOrEqual(RATE + 1);
    // And on average no faster than the rate: PEOPLE requests need (PEOPLE − 1) / RATE seconds.
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(
      ((PEOPLE - 1) / RATE) * 1000 - JITTER_MS,
    );

    await eventually('every SMS recorded as sent', async () => {
      const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return progress.byChannel.sms?.sent === PEOPLE;
    });
  }, 60_000);
});
