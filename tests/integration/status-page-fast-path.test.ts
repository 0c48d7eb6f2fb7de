import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { createApp, createWebListener } from '../../src/app.js';
import { withStatusPageFastPath } from '../../src/status-page/fast-path.js';
import { SUPPORTED_LOCALES } from '../../src/platform/i18n.js';
import type { Deps } from '../../src/deps.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request exactly as written (no URL normalising), and the answer as it came, bytes undecoded. */
function send(
  server: http.Server,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Answer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const sent = http.request({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        // Every header but Date, which tells the second the answer was made.
        const headers = { ...response.headers };
        delete headers.date;
        resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
    });
    sent.setTimeout(10_000, () => sent.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    sent.on('error', reject);
    sent.end();
  });
}

async function listen(listener: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * The same deps served two ways: through the fast path (with a count of what it handed to Express)
 * and through Express alone.
 */
async function bothWays(deps: Deps) {
  const app = createApp(deps);
  const counted = { fellThrough: 0 };
  const fast = await listen(
    withStatusPageFastPath(deps, (req, res) => {
      counted.fellThrough++;
      app(req, res);
    }),
  );
  const express = await listen(createWebListener(deps, { statusPageFastPath: false }));
  return {
    fast,
    express,
    counted,
    close: () =>
      Promise.all(
        [fast, express].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ),
  };
}

describe("the status page's fast path answers exactly as Express does", () => {
  let ctx: TestContext;
  let slug: string;
  beforeAll(async () => {
    ctx = await startTestContext();
    slug = (await makeIncident(ctx.deps)).slug;
  });
  afterAll(async () => ctx?.close());

  for (const env of ['test', 'production'] as const) {
    it(`gives every variant the same status, headers and bytes (${env})`, async () => {
      const deps: Deps = { ...ctx.deps, config: { ...ctx.deps.config, env } };
      const servers = await bothWays(deps);
      try {
        // Through Express first, so every page and language is in memory whichever way comes next.
        for (const path of ['/', `/incidents/${slug}`, `/incidents/${slug}/feed.atom`])
          for (const lang of SUPPORTED_LOCALES)
            expect((await send(servers.express, 'GET', `${path}?lang=${lang}`, {})).status).toBeLessThan(400);

        const page = `/incidents/${slug}`;
        const etags: Record<string, string> = {};
        for (const encoding of ['br', 'gzip', 'identity']) {
          const answer = await send(servers.express, 'GET', page, { 'Accept-Encoding': encoding });
          etags[encoding] = String(answer.headers.etag);
        }

        // [method, path, headers, answered by the fast path?]
        const cases: [string, string, Record<string, string>, boolean][] = [];
        for (const path of ['/', page, `${page}/feed.atom`]) {
          for (const encoding of ['gzip, deflate, br', 'gzip', 'identity', 'br;q=0, gzip;q=0'])
            cases.push(['GET', path, { 'Accept-Encoding': encoding }, true]);
          for (const lang of SUPPORTED_LOCALES) {
            cases.push(['GET', path, { 'Accept-Language': `${lang};q=0.9, en;q=0.1` }, true]);
            cases.push(['GET', path, { Cookie: `sid=x; candor_lang=${lang}` }, true]);
            cases.push(['GET', `${path}?lang=${lang}`, {}, false]);
          }
          cases.push(['HEAD', path, { 'Accept-Encoding': 'br' }, true]);
        }
        cases.push(
          ['GET', page, { 'If-None-Match': etags.identity! }, true],
          ['GET', page, { 'Accept-Encoding': 'br', 'If-None-Match': `"other", W/${etags.br!}` }, true],
          ['HEAD', page, { 'Accept-Encoding': 'gzip', 'If-None-Match': etags.gzip! }, true],
          // An ETag of another encoding is another representation: the page itself, not a 304.
          ['GET', page, { 'Accept-Encoding': 'gzip', 'If-None-Match': etags.br! }, true],
          ['GET', page, { Cookie: 'candor_lang=%E0%A4' }, true],
          ['GET', page, { 'Accept-Language': 'xx, *;q=0.5' }, true],
          ['POST', page, {}, false],
          ['DELETE', page, {}, false],
          ['OPTIONS', page, {}, false],
          ['GET', `${page}?utm_source=mail`, {}, false],
          ['GET', `${page}/`, {}, false],
          ['GET', page.toUpperCase(), {}, false],
          ['GET', `/incidents/${slug.replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`)}`, {}, false],
          ['GET', '/incidents/no-such-incident', {}, false],
          ['GET', '/incidents/no-such-incident/feed.atom', {}, false],
          ['GET', '/incidents/..%2f', {}, false],
          ['GET', '/incidents/..%2f..%2fetc%2fpasswd', {}, false],
          ['GET', '/incidents/../incidents/x', {}, false],
          ['GET', '/incidents/%00', {}, false],
          ['GET', '/incidents/%E0%A4%A', {}, false],
          ['GET', `/incidents/${'a'.repeat(4000)}`, {}, false],
          ['GET', `/incidents/${slug}/feed.atom/feed.atom`, {}, false],
          ['GET', '/incidents/', {}, false],
          ['GET', '/incidents', {}, false],
          ['GET', '//', {}, false],
        );

        for (const [method, path, headers, fast] of cases) {
          const before = servers.counted.fellThrough;
          const viaFastPath = await send(servers.fast, method, path, headers);
          const what = `${method} ${path.slice(0, 80)} ${JSON.stringify(headers)}`;
          expect(servers.counted.fellThrough - before, `${what}: answered by the fast path`).toBe(
            fast ? 0 : 1,
          );
          const viaExpress = await send(servers.express, method, path, headers);
          // A ?lang= answer sets a cookie whose expiry is a moment apart from one request to the next,
          // and a page of Express's own (an error) carries a fresh nonce in its policy.
          const expiry = (answer: Answer) => ({
            ...answer.headers,
            'content-security-policy': String(answer.headers['content-security-policy']).replace(
              /'nonce-[^']+'/,
              "'nonce-…'",
            ),
            'set-cookie': answer.headers['set-cookie']?.map((c) => c.replace(/Expires=[^;]+/, 'Expires=…')),
          });
          expect(
            { status: viaFastPath.status, headers: expiry(viaFastPath) },
            `${what}: status and headers`,
          ).toEqual({ status: viaExpress.status, headers: expiry(viaExpress) });
          // Error pages carry a per-request nonce; everything else must match byte for byte.
          const nonce = (body: Buffer) => body.toString('latin1').replace(/nonce-?[=":\w+/-]*/g, 'nonce');
          expect(nonce(viaFastPath.body), `${what}: body`).toBe(nonce(viaExpress.body));
          if (fast) expect(viaFastPath.headers['x-candor-cache'], what).toBe('memory');
        }
        // The variants themselves differ: a 304, a brotli body, an Arabic page were all seen.
        const notModified = await send(servers.fast, 'GET', page, { 'If-None-Match': etags.identity! });
        expect(notModified.status).toBe(304);
        expect(notModified.body.length).toBe(0);
        const arabic = await send(servers.fast, 'GET', page, { Cookie: 'candor_lang=ar' });
        expect(arabic.headers['content-language']).toBe('ar');
        const hostile = await send(servers.fast, 'GET', '/incidents/%00', {});
        expect(hostile.status).toBe(400);
      } finally {
        await servers.close();
      }
    });
  }

  it('counts its answers in the request metric under the route template', async () => {
    const servers = await bothWays(ctx.deps);
    try {
      await send(servers.express, 'GET', `/incidents/${slug}/feed.atom`, {});
      const series =
        'candor_http_request_duration_seconds_count{method="HEAD",route="/incidents/:slug/feed.atom",status="200"}';
      const count = async () => {
        const text = await ctx.deps.metrics.registry.metrics();
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line ? Number(line.slice(series.length + 1)) : 0;
      };
      const before = await count();
      await send(servers.fast, 'HEAD', `/incidents/${slug}/feed.atom`, {});
      await send(servers.fast, 'HEAD', `/incidents/${slug}/feed.atom`, {});
      expect(servers.counted.fellThrough).toBe(0);
      expect(await count()).toBe(before + 2);
    } finally {
      await servers.close();
    }
  });
});
