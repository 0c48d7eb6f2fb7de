import http from 'node:http';
import zlib from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { insertIncident, type Incident } from '../../src/incidents/store.js';
import {
  changeIncidentState,
  editIncident,
  postIncidentUpdate,
  publishIncidentPage,
} from '../../src/incidents/service.js';
import { SUPPORTED_LOCALES } from '../../src/platform/i18n.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createWebListener } from '../../src/app.js';
import { makeStaffAccount, postForm, signedInAgent } from '../support/console.js';

/** A GET as a CDN or browser sends it, with the bytes as they came (no decoding), for header tests. */
function rawGet(
  server: http.Server,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { port } = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      })
      .on('error', reject);
  });
}

describe('the public status page', () => {
  let ctx: TestContext;
  let slug: string;
  let incident: Incident;
  beforeAll(async () => {
    ctx = await startTestContext();
    incident = await makeIncident(ctx.deps);
    slug = incident.slug;
    await postIncidentUpdate(ctx.deps, {
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
    await publishIncidentPage(ctx.deps, incident.id);
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

  it('shows a published update at once, on the page and in the feed, in every language', async () => {
    for (const lang of SUPPORTED_LOCALES) {
      await request(ctx.server).get(`/incidents/${slug}?lang=${lang}`).expect(200);
      await request(ctx.server).get(`/incidents/${slug}/feed.atom?lang=${lang}`).expect(200);
    }
    await postIncidentUpdate(ctx.deps, {
      incidentId: incident.id,
      texts: { en: { title: 'Helpline hours extended', body: 'We now answer until 22:00.' } },
    });
    for (const lang of SUPPORTED_LOCALES) {
      const page = await request(ctx.server).get(`/incidents/${slug}?lang=${lang}`).expect(200);
      expect(page.text).toContain(`<html lang="${lang}"`);
      expect(page.text).toContain('Helpline hours extended');
      const feed = await request(ctx.server).get(`/incidents/${slug}/feed.atom?lang=${lang}`).expect(200);
      expect(feed.text).toContain('<title>Helpline hours extended</title>');
    }
  });

  it('shows an edit and a state change at once', async () => {
    const other = await makeIncident(ctx.deps, { slug: 'edit-check' });
    const before = await request(ctx.server).get('/incidents/edit-check').expect(200);
    expect(before.text).toContain('state-investigating');
    await changeIncidentState(ctx.deps, other.id, 'contained');
    await editIncident(ctx.deps, other.id, {
      organisationName: 'Acme Bicycles',
      dataTypes: ['names'],
      texts: { en: { ...other.texts.en!, whatWeDid: 'We rotated every key.' } },
      helplines: { en: '+44 800 333 4444' },
      discoveredAt: null,
    });
    const after = await request(ctx.server).get('/incidents/edit-check').expect(200);
    expect(after.text).toContain('state-contained');
    expect(after.text).toContain('We rotated every key.');
    expect(after.text).toContain('+44 800 333 4444');
    expect(after.text).toContain('Acme Bicycles');
  });

  it('shows what an editor does in the console at once: publishing, an update, a state change', async () => {
    const editor = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'editor'));
    const draft = await insertIncident(ctx.deps.db, {
      slug: 'console-check',
      organisationName: 'Console Shop',
      dataTypes: [],
      texts: { en: { ...incident.texts.en!, title: 'Published from the console' } },
    });
    await request(ctx.server).get('/incidents/console-check').expect(404);
    const show = `/console/incidents/${draft.id}`;
    expect((await postForm(editor, show, `${show}/publish`, {})).status).toBe(303);
    const published = await request(ctx.server).get('/incidents/console-check?lang=hi').expect(200);
    expect(published.text).toContain('Published from the console');

    const posted = await postForm(editor, `${show}/updates/new`, `${show}/updates`, {
      'title.en': 'Posted from the console',
      'body.en': 'Seen at once.',
    });
    expect(posted.status).toBe(303);
    expect((await postForm(editor, show, `${show}/state`, { state: 'monitoring' })).status).toBe(303);
    const page = await request(ctx.server).get('/incidents/console-check?lang=hi').expect(200);
    expect(page.text).toContain('Posted from the console');
    expect(page.text).toContain('state-monitoring');
    const feed = await request(ctx.server).get('/incidents/console-check/feed.atom').expect(200);
    expect(feed.text).toContain('<title>Posted from the console</title>');
  });

  it('shows another process’s publish within its refresh interval', async () => {
    const elsewhere: Deps = await createDeps(ctx.config, { logger: ctx.deps.logger });
    const server = http.createServer(createWebListener(elsewhere));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const seen = await request(server).get(`/incidents/${slug}?lang=es`).expect(200);
      expect(seen.text).not.toContain('Second helpline opened');
      await postIncidentUpdate(ctx.deps, {
        incidentId: incident.id,
        texts: { en: { title: 'Second helpline opened', body: 'Call +44 800 555 6666 too.' } },
      });
      await eventually('the other process to show the update', async () => {
        const page = await request(server).get(`/incidents/${slug}?lang=es`).expect(200);
        return page.text.includes('Second helpline opened');
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await elsewhere.close();
    }
  });

  it('gives CDNs and browsers what they need: public caching, a strong ETag, 304s and precompressed bodies', async () => {
    const plain = await rawGet(ctx.server, `/incidents/${slug}`);
    expect(plain.status).toBe(200);
    expect(plain.headers['cache-control']).toBe(
      'public, max-age=30, stale-while-revalidate=60, stale-if-error=604800',
    );
    expect(plain.headers.vary).toBe('Accept-Encoding, Accept-Language, Cookie');
    expect(plain.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(plain.body.length);

    const notModified = await rawGet(ctx.server, `/incidents/${slug}`, {
      'If-None-Match': plain.headers.etag!,
    });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    expect(notModified.headers['cache-control']).toBe(plain.headers['cache-control']);

    const gzipped = await rawGet(ctx.server, `/incidents/${slug}`, { 'Accept-Encoding': 'gzip, deflate' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gzipped.body).equals(plain.body)).toBe(true);
    expect(gzipped.headers.etag).not.toBe(plain.headers.etag);

    const brotli = await rawGet(ctx.server, `/incidents/${slug}`, { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(brotli.body).equals(plain.body)).toBe(true);
    expect(brotli.body.length).toBeLessThan(gzipped.body.length);
    const brotliAgain = await rawGet(ctx.server, `/incidents/${slug}`, {
      'Accept-Encoding': 'br',
      'If-None-Match': brotli.headers.etag!,
    });
    expect(brotliAgain.status).toBe(304);

    const refused = await rawGet(ctx.server, `/incidents/${slug}`, { 'Accept-Encoding': 'br;q=0, gzip' });
    expect(refused.headers['content-encoding']).toBe('gzip');

    const feed = await rawGet(ctx.server, `/incidents/${slug}/feed.atom?lang=ar`, {
      'Accept-Encoding': 'br',
    });
    expect(feed.headers['content-type']).toMatch(/^application\/atom\+xml/);
    expect(feed.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(feed.body).toString()).toContain('xml:lang="ar"');
  });

  it('keeps the language choice out of shared caches', async () => {
    const chosen = await rawGet(ctx.server, `/incidents/${slug}?lang=de`);
    expect(chosen.headers['set-cookie']?.[0]).toMatch(/^candor_lang=de;/);
    expect(chosen.headers['cache-control']).toBe('private, no-cache');
    const remembered = await rawGet(ctx.server, `/incidents/${slug}?utm_source=letter`, {
      Cookie: 'candor_lang=de',
    });
    expect(remembered.body.toString()).toContain('<html lang="de" dir="ltr">');
    expect(remembered.headers['cache-control']).toMatch(/^public, /);
  });

  it('sends the same static content security policy on every answer, and no script anywhere', async () => {
    const paths = ['/', `/incidents/${slug}`, `/incidents/${slug}/feed.atom`];
    for (const path of paths) {
      const policies = new Set<string>();
      for (const lang of SUPPORTED_LOCALES) {
        const response = await rawGet(ctx.server, `${path}?lang=${lang}`);
        expect([200, 303]).toContain(response.status);
        expect(response.body.toString()).not.toMatch(/<script|javascript:|\son[a-z]+=/i);
        policies.add(String(response.headers['content-security-policy']));
        expect(response.headers['x-content-type-options']).toBe('nosniff');
        expect(response.headers['x-frame-options']).toBeDefined();
      }
      expect(policies.size).toBe(1);
      expect([...policies][0]).not.toContain('nonce-');
      expect([...policies][0]).toContain("script-src 'self'");
    }
  });

  it('lists the published incidents on the home page, from the snapshot', async () => {
    const home = await request(ctx.server).get('/?lang=fr').expect(200);
    expect(home.text).toContain('<html lang="fr" dir="ltr">');
    expect(home.text).toContain(`href="/incidents/${slug}"`);
    expect(home.text).toContain('Adresses e-mail de clients exposées');
    expect(home.headers['x-candor-cache']).toBeDefined();
  });

  it('publishes, on its first visit, an incident published before snapshots existed', async () => {
    const older = await insertIncident(ctx.deps.db, {
      slug: 'published-long-ago',
      organisationName: 'Old Shop',
      dataTypes: [],
      texts: { en: { ...incident.texts.en!, title: 'An older incident' } },
    });
    await ctx.deps.db.query('UPDATE incidents SET published_at = now() WHERE id = $1', [older.id]);
    const page = await request(ctx.server).get('/incidents/published-long-ago').expect(200);
    expect(page.text).toContain('An older incident');
    const { rows } = await ctx.deps.db.query<{ documents: number }>(
      'SELECT count(*)::int AS documents FROM status_documents WHERE incident_id = $1',
      [older.id],
    );
    expect(rows[0]!.documents).toBe(SUPPORTED_LOCALES.length * 2);
  });

  it('reports ready when PostgreSQL and Redis answer', async () => {
    const response = await request(ctx.server).get('/readyz').expect(200);
    expect(response.body).toEqual({ status: 'ready', database: 'ok', redis: 'ok' });
  });
});
