import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeApprovedCampaign } from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import { startWorkerProcess, type WorkerProcess } from '../support/processes.js';
import type { FakeProviders, RecordedRequest } from '../fakes/provider-server.js';
import { fixedClock } from '../../src/platform/clock.js';
import { campaignProgress, startCampaign } from '../../src/campaigns/service.js';

const RATE = 10;
const PEOPLE = 30;

/** The most requests at `times` (ms) in any sliding window of `windowMs`, as the provider would count them. */
function mostInWindow(times: number[], windowMs: number): number {
  return Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + windowMs).length));
}

function smsTimes(requests: RecordedRequest[]): number[] {
  return requests
    .filter((r) => r.kind === 'twilio-sms')
    .map((r) => r.receivedAt)
    .sort((a, b) => a - b);
}

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

  async function campaignFor(people: number, series: number) {
    const incident = await makeIncident(ctx.deps);
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: people }, (_, i) =>
        makePerson({
          email: null,
          phone: `+44740055${series}${String(i).padStart(3, '0')}`,
          timeZone: 'UTC',
        }),
      ),
    );
    return makeApprovedCampaign(ctx.deps, incident.id);
  }

  it(`never lets the provider see more than ${RATE} SMS in any sliding second, with two worker processes sending`, async () => {
    const campaign = await campaignFor(PEOPLE, 1);
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    await fake.waitFor((requests) => smsTimes(requests).length >= PEOPLE, 30_000);
    const times = smsTimes(fake.requests);
    expect(times).toHaveLength(PEOPLE);
    // Measured where it matters, at the provider, over every window starting at a request.
    expect(mostInWindow(times, 1000)).toBeLessThanOrEqual(RATE);

    await eventually('every SMS recorded as sent', async () => {
      const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
      return progress.byChannel.sms?.sent === PEOPLE;
    });
  }, 60_000);

  it('rests the channel as long as a 429 asks in Retry-After, then sends the rest at the full rate', async () => {
    const people = 2 * RATE;
    const campaign = await campaignFor(people, 2);
    fake.requests.splice(0);
    let refused = false;
    fake.setBehaviour(() => {
      if (refused) return { reply: 'accept', receipt: null };
      refused = true;
      return { reply: 'error', status: 429, headers: { 'Retry-After': '2' } };
    });
    await startCampaign(ctx.deps, { campaignId: campaign.id });

    await eventually(
      'every SMS recorded as sent',
      async () => {
        const progress = await campaignProgress(ctx.deps, { campaignId: campaign.id });
        return progress.byChannel.sms?.sent === people;
      },
      30_000,
    );
    const [refusedAt = 0, ...after] = smsTimes(fake.requests);
    // The refused message went again, without spending a try, and nobody got two.
    expect(after).toHaveLength(people);
    expect(fake.requests.filter((r) => r.providerMessageId === '')).toHaveLength(1);
    // Nothing reached the provider while it asked us to wait, from either worker process...
    expect(after[0]! - refusedAt).toBeGreaterThanOrEqual(2_000);
    // ...and then the channel went at its rate again, not a trickle: some second held at least half
    // of RATE (a busy machine gives up late slots). How fast, exactly, is measured by
    // `npm run bench provider-rate`, not asserted here.
    expect(mostInWindow(after, 1000)).toBeLessThanOrEqual(RATE);
    expect(mostInWindow(after, 1000)).toBeGreaterThanOrEqual(RATE / 2);
  }, 60_000);
});
