import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import type { Incident } from '../../src/incidents/store.js';

describe('compression, favicon and page description', () => {
  let ctx: TestContext;
  let incident: Incident;
  beforeAll(async () => {
    ctx = await startTestContext();
    incident = await makeIncident(ctx.deps);
  });
  afterAll(async () => ctx?.close());

  it('compresses a rendered page for a client that accepts gzip, and sends it plain to one that does not', async () => {
    const page = `/incidents/${incident.slug}/check`;
    const gzipped = await request(ctx.baseUrl).get(page).set('Accept-Encoding', 'gzip').expect(200);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/Accept-Encoding/i);
    expect(gzipped.text).toContain('<form');
    const plain = await request(ctx.baseUrl).get(page).set('Accept-Encoding', 'identity').expect(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text).toContain('<form');
  });

  it('serves a status page as stored: its own encodings, never compressed twice, and 304 for its ETag', async () => {
    const page = `/incidents/${incident.slug}`;
    const gzipped = await request(ctx.baseUrl).get(page).set('Accept-Encoding', 'gzip').expect(200);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.text).toContain('Customer emails exposed');
    // A client taking only deflate gets the stored plain body, not one deflated on the fly.
    const deflateOnly = await request(ctx.baseUrl).get(page).set('Accept-Encoding', 'deflate').expect(200);
    expect(deflateOnly.headers['content-encoding']).toBeUndefined();
    expect(Number(deflateOnly.headers['content-length'])).toBe(Buffer.byteLength(deflateOnly.text));
    const etag = String(gzipped.headers.etag);
    const again = await request(ctx.baseUrl)
      .get(page)
      .set('Accept-Encoding', 'gzip')
      .set('If-None-Match', etag)
      .expect(304);
    expect(again.headers.etag).toBe(etag);
  });

  it('serves the favicon at /favicon.ico and the SVG icon the pages link to', async () => {
    const ico = await request(ctx.baseUrl).get('/favicon.ico').buffer(true).expect(200);
    expect(ico.headers['content-type']).toMatch(/icon/);
    expect((ico.body as Buffer).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
    const page = await request(ctx.baseUrl).get(`/incidents/${incident.slug}`).expect(200);
    const icon = /<link rel="icon" href="([^"]+)" type="image\/svg\+xml">/.exec(page.text)?.[1];
    expect(icon, 'the page links an SVG icon').toBeDefined();
    const svg = await request(ctx.baseUrl).get(icon!).expect(200);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
  });

  it("describes public pages in the reader's language", async () => {
    const english = await request(ctx.baseUrl).get(`/incidents/${incident.slug}`).expect(200);
    expect(english.text).toMatch(/<meta name="description" content="Official notice about a data breach/);
    const french = await request(ctx.baseUrl).get(`/incidents/${incident.slug}?lang=fr`).expect(200);
    expect(french.text).toMatch(
      /<meta name="description" content="Avis officiel concernant une violation de données/,
    );
  });
});
