import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { createApp, createOpsApp } from '../../src/app.js';
import { freePort, startCandorWeb } from '../support/processes.js';

const TOKEN = 'metrics-token-for-tests-0123456789';

describe('Prometheus metrics', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ workers: true, env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => ctx?.close());

  const scrape = () =>
    fetch(`${ctx.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
  /** The value of one sample line, e.g. `candor_jobs_total{queue="send-email",outcome="sent"}`. */
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : undefined;
  };

  it('answers only with the token when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${ctx.baseUrl}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${ctx.baseUrl}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${ctx.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toContain('text/plain');
    expect(await right.text()).toContain('candor_process_resident_memory_bytes');
  });

  it('counts sends, times requests by route template, and reads queue depths and live campaigns', async () => {
    const incident = await makeIncident(ctx.deps);
    await makePeople(ctx.deps, incident.id, [makePerson(), makePerson(), makePerson()]);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await fetch(`${ctx.baseUrl}/incidents/${incident.slug}`);

    const text = await eventually('three sends to be counted', async () => {
      const current = await scrape();
      return sample(current, 'candor_jobs_total{queue="send-email",outcome="sent"}') === 3
        ? current
        : undefined;
    });
    expect(text).toMatch(
      /candor_http_request_duration_seconds_count\{method="GET",route="\/incidents\/:slug",status="\d+"\} 1/,
    );
    expect(text).not.toContain(`route="/incidents/${incident.slug}"`);
    expect(text).toMatch(/candor_queue_jobs\{queue="send-email",state="waiting"\} \d+/);
    expect(text).toContain('# TYPE candor_live_campaign_messages gauge');
  });

  it('serves no metrics on the public port without a token, even to a request through a proxy on this machine', async () => {
    const app = createApp({ ...ctx.deps, config: { ...ctx.deps.config, metricsToken: null } });
    // Behind a reverse proxy on the same host every request arrives from loopback.
    await request(app).get('/metrics').set('X-Forwarded-For', '203.0.113.9').expect(404);
    await request(app).get('/metrics').expect(404);
  });

  it('serves metrics to this machine on the loopback metrics port of a running web process', async () => {
    const port = await freePort();
    const web = await startCandorWeb({
      DATABASE_URL: ctx.config.databaseUrl,
      REDIS_URL: ctx.config.redisUrl,
      QUEUE_PREFIX: ctx.config.queuePrefix,
      METRICS_PORT: String(port),
    });
    try {
      await eventually('the metrics port to listen', () =>
        Promise.resolve(/metrics listening on 127\.0\.0\.1/.test(web.output())),
      );
      const answer = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain('candor_jobs_total');
      expect((await fetch(`${web.baseUrl}/metrics`)).status).toBe(404);
    } finally {
      await web.stop();
    }
  });

  it('gives a worker-only process health, readiness and metrics', async () => {
    const app = createOpsApp({ ...ctx.deps, config: { ...ctx.deps.config, metricsToken: null } });
    await request(app).get('/healthz').expect(200);
    expect((await request(app).get('/readyz').expect(200)).body).toMatchObject({ status: 'ready' });
    await request(app).get('/metrics').expect(200);
  });
});
