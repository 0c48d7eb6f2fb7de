import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson } from '../support/factories.js';
import { browser, csrfFrom, portalOutbox } from '../support/portal.js';
import { startWebProcess, type WebProcess } from '../support/processes.js';
import { LOOKUP_LIMITS } from '../../src/lookup/limits.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

describe('the lookup cannot be used to probe', () => {
  let ctx: TestContext;
  let second: WebProcess;
  let slug: string;
  const onFile = 'on-file@example.com';

  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
    const incident = await makeIncident(ctx.deps);
    slug = incident.slug;
    await makePeople(ctx.deps, incident.id, [makePerson({ email: onFile })]);
    second = await startWebProcess(ctx.config);
  });
  afterAll(async () => {
    await second?.stop();
    await ctx?.close();
  });

  async function forgetRateLimits() {
    const keys = await ctx.deps.redis.keys(`${ctx.config.queuePrefix}:ratelimit:*`);
    if (keys.length > 0) await ctx.deps.redis.del(...keys);
  }

  it('sends the same status, body and timing whether or not the email is on file', async () => {
    const check = `/incidents/${slug}/check`;
    const clients = {
      onFile: browser(ctx.server),
      notOnFile: browser(ctx.server),
    };
    const tokens = {
      onFile: csrfFrom((await clients.onFile.get(check)).text),
      notOnFile: csrfFrom((await clients.notOnFile.get(check)).text),
    };
    const contacts = { onFile, notOnFile: 'not-on-file@example.com' };
    const timings: Record<'onFile' | 'notOnFile', number[]> = { onFile: [], notOnFile: [] };
    const bodies: Record<'onFile' | 'notOnFile', Set<string>> = { onFile: new Set(), notOnFile: new Set() };
    const statuses = new Set<number>();

    const attempt = async (which: 'onFile' | 'notOnFile', measure: boolean) => {
      await forgetRateLimits();
      const started = process.hrtime.bigint();
      const response = await clients[which].agent
        .post(`${check}/contact`)
        .type('form')
        .send({ contact: contacts[which], _csrf: tokens[which] });
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      statuses.add(response.status);
      bodies[which].add(response.text.replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value=""'));
      if (measure) timings[which].push(elapsed);
      // The worker's half differs (it sends a code or it does not); let it finish before the next
      // timed request, so one try's background work never lands on the other's clock.
      await eventually('the job to be done', async () => {
        const counts = await ctx.deps.portalQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((count) => count === 0);
      });
    };

    for (let i = 0; i < 20; i++) await attempt(i % 2 ? 'onFile' : 'notOnFile', false);
    // Interleaved in a random order, so drift in the machine's load falls on both alike.
    for (let i = 0; i < 200; i++) {
      const first = Math.random() < 0.5 ? 'onFile' : 'notOnFile';
      await attempt(first, true);
      await attempt(first === 'onFile' ? 'notOnFile' : 'onFile', true);
    }

    expect([...statuses]).toEqual([200]);
    expect(bodies.onFile.size).toBe(1);
    expect([...bodies.onFile]).toEqual([...bodies.notOnFile]);
    const difference = Math.abs(median(timings.onFile) - median(timings.notOnFile));
    // Printed for the record (the closing note quotes it); the assertion below is what matters.
    // eslint-disable-next-line no-console
    console.log(
      `enumeration timing: median on file ${median(timings.onFile).toFixed(2)} ms, not on file ${median(timings.notOnFile).toFixed(2)} ms, difference ${difference.toFixed(2)} ms`,
    );
    expect(difference).toBeLessThan(5);

    // And the work behind the answer really differed: codes went to the address on file, none elsewhere.
    await eventually('the codes to be sent', async () => (await portalOutbox(ctx.deps)).length >= 200);
    const outbox = await portalOutbox(ctx.deps);
    expect(outbox.every((entry) => entry.to.email === onFile)).toBe(true);
  }, 120_000);

  it('refuses the request past the limit from one client with a friendly page, across two app processes', async () => {
    await forgetRateLimits();
    const processes = [request.agent(ctx.server), request.agent(second.baseUrl)];
    const tokens = await Promise.all(
      processes.map(async (agent) => csrfFrom((await agent.get(`/incidents/${slug}/check`)).text)),
    );
    const post = (i: number) =>
      processes[i % 2]!.post(`/incidents/${slug}/check/contact`)
        .type('form')
        .send({ contact: `person-${i}@example.com`, _csrf: tokens[i % 2]! });

    for (let i = 0; i < LOOKUP_LIMITS.perClient.points; i++) expect((await post(i)).status).toBe(200);
    const refusedHere = await post(LOOKUP_LIMITS.perClient.points);
    const refusedThere = await post(LOOKUP_LIMITS.perClient.points + 1);
    for (const refused of [refusedHere, refusedThere]) {
      expect(refused.status).toBe(429);
      expect(refused.text).toContain('Please wait a little');
      expect(refused.text).toContain('<html lang="en" dir="ltr">');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('limits tries at one email address from many clients, so nobody can hammer one person', async () => {
    await forgetRateLimits();
    const agent = request.agent(ctx.server);
    const token = csrfFrom((await agent.get(`/incidents/${slug}/check`)).text);
    const post = (i: number) =>
      agent
        .post(`/incidents/${slug}/check/contact`)
        .set('X-Forwarded-For', `203.0.113.${i + 1}`)
        .type('form')
        .send({ contact: onFile, _csrf: token });
    for (let i = 0; i < LOOKUP_LIMITS.perTarget.points; i++) expect((await post(i)).status).toBe(200);
    expect((await post(LOOKUP_LIMITS.perTarget.points)).status).toBe(429);
  });

  it('limits guesses at one code request to five', async () => {
    await forgetRateLimits();
    const person = browser(ctx.server);
    await person
      .submit(`/incidents/${slug}/check`, `/incidents/${slug}/check/contact`, { contact: onFile })
      .expect(200);
    const statuses: number[] = [];
    for (let i = 0; i < LOOKUP_LIMITS.perCodeRequest.points + 1; i++) {
      const response = await person.submit(`/incidents/${slug}/check/code`, `/incidents/${slug}/check/code`, {
        code: String(100000 + i),
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, LOOKUP_LIMITS.perCodeRequest.points).every((status) => status === 400)).toBe(
      true,
    );
    expect(statuses.at(-1)).toBe(429);
  });
});
