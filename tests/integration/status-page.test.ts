import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { insertIncident, insertIncidentUpdate } from '../../src/incidents/store.js';

describe('the public status page', () => {
  let ctx: TestContext;
  let slug: string;
  beforeAll(async () => {
    ctx = await startTestContext();
    const incident = await makeIncident(ctx.deps);
    slug = incident.slug;
    await insertIncidentUpdate(ctx.deps.db, {
      incidentId: incident.id,
      publishedAt: new Date('2026-11-20T10:00:00Z'),
      texts: {
        en: { title: 'Backup removed', body: 'The backup is gone.' },
        fr: { title: 'Sauvegarde supprimée', body: 'La sauvegarde a disparu.' },
      },
    });
  });
  afterAll(async () => ctx?.close());

  it('shows what happened, what to do, the helpline and the dated timeline', async () => {
    const response = await request(ctx.server).get(`/incidents/${slug}`).expect(200);
    expect(response.text).toContain('<html lang="en" dir="ltr">');
    expect(response.text).toContain('Customer emails exposed');
    expect(response.text).toContain('Be wary of emails about your order.');
    expect(response.text).toContain('+44 800 111 2222');
    expect(response.text).toContain('Backup removed');
    expect(response.text).toContain('datetime="2026-11-20T10:00:00.000Z"');
    expect(response.text).toContain('href="#main-content"');
  });

  it('speaks French when asked, by link or by browser', async () => {
    const byLink = await request(ctx.server).get(`/incidents/${slug}?lang=fr`).expect(200);
    expect(byLink.text).toContain('<html lang="fr" dir="ltr">');
    expect(byLink.text).toContain('Sauvegarde supprimée');
    expect(byLink.text).toContain('Ce que vous devriez faire');
    expect(byLink.headers['set-cookie']?.[0]).toMatch(/^candor_lang=fr;/);
    const remembered = await request(ctx.server)
      .get(`/incidents/${slug}`)
      .set('Cookie', 'candor_lang=fr')
      .expect(200);
    expect(remembered.text).toContain('<html lang="fr" dir="ltr">');
    const byBrowser = await request(ctx.server)
      .get(`/incidents/${slug}`)
      .set('Accept-Language', 'fr-CA,fr;q=0.9')
      .expect(200);
    expect(byBrowser.text).toContain('Adresses e-mail de clients exposées');
  });

  it('sets no cookie on an ordinary visit, so the page can be cached', async () => {
    const response = await request(ctx.server).get(`/incidents/${slug}`).expect(200);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('escapes whatever staff typed', async () => {
    const incident = await insertIncident(ctx.deps.db, {
      slug: 'escaping-check',
      organisationName: '<script>alert(1)</script>',
      dataTypes: [],
      texts: {
        en: {
          title: 'T',
          whatHappened: '<img src=x onerror=alert(1)>',
          whatData: '',
          whatWeDid: '',
          whatYouShouldDo: '',
          howToGetHelp: '',
        },
      },
    });
    await ctx.deps.db.query('UPDATE incidents SET published_at = now() WHERE id = $1', [incident.id]);
    const response = await request(ctx.server).get('/incidents/escaping-check').expect(200);
    expect(response.text).not.toContain('<script>alert(1)</script>');
    expect(response.text).not.toContain('<img src=x');
  });

  it('answers an unknown incident with a plain 404 page and no internals', async () => {
    const response = await request(ctx.server).get('/incidents/no-such-thing').expect(404);
    expect(response.text).toContain('Page not found');
    expect(response.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('sends security headers with a nonce-based content security policy', async () => {
    const response = await request(ctx.server).get(`/incidents/${slug}/check`).expect(200);
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('allows no inline script at all on the cached status page, whichever way it is served', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await request(ctx.server).get(`/incidents/${slug}`).expect(200);
      expect(response.headers['content-security-policy']).toMatch(/script-src 'self'(;|$| 'nonce-)/);
      expect(response.text).not.toContain('<script');
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('reports ready when PostgreSQL and Redis answer', async () => {
    const response = await request(ctx.server).get('/readyz').expect(200);
    expect(response.body).toEqual({ status: 'ready', database: 'ok', redis: 'ok' });
  });
});
