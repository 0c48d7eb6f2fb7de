import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { insertIncidentUpdate } from '../../src/incidents/store.js';
import { publishIncidentPage } from '../../src/incidents/service.js';
import { makeStaffAccount, signedInAgent } from '../support/console.js';

describe('times on the pages name their zone', () => {
  let ctx: TestContext;
  let slug = '';
  beforeAll(async () => {
    // India keeps one offset all year: the zone's name is the same whatever day the test runs.
    ctx = await startTestContext({ env: { DEFAULT_TIME_ZONE: 'Asia/Kolkata' } });
    const incident = await makeIncident(ctx.deps);
    slug = incident.slug;
    await insertIncidentUpdate(ctx.deps.db, {
      incidentId: incident.id,
      texts: { en: { title: 'Letters are going out', body: 'Check your post.' } },
      publishedAt: new Date('2026-01-15T03:30:00Z'),
    });
    await publishIncidentPage(ctx.deps, incident.id);
  });
  afterAll(async () => ctx?.close());

  it('dates the status page’s updates in the organisation’s zone, in the reader’s language', async () => {
    const english = await request(ctx.server).get(`/incidents/${slug}`).expect(200);
    expect(english.text).toContain('Published January 15, 2026 at 9:00 AM GMT+5:30');
    expect(english.text).toMatch(/Last updated [^<]+ GMT\+5:30</);
    const french = await request(ctx.server).get(`/incidents/${slug}?lang=fr`).expect(200);
    expect(french.text).toContain('Publié le 15 janvier 2026 à 09:00 UTC+5:30');
  });

  it('shows staff every time in the console with its zone', async () => {
    const admin = await makeStaffAccount(ctx.deps, 'admin');
    const agent = await signedInAgent(ctx.baseUrl, admin);
    const audit = await agent.get('/console/audit').expect(200);
    // The sign-in just recorded, at least, in the organisation's zone.
    expect(audit.text).toMatch(/<td>[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M GMT\+5:30<\/td>/);
    expect(audit.text).not.toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  });
});
