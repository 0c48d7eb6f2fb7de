import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { formProtection } from '../../src/web/session.js';
import { createRateLimit } from '../../src/platform/rate-limit.js';
import { localeMiddleware } from '../../src/web/locale.js';
import { errorHandler } from '../../src/web/errors.js';
import { cspNonce } from '../../src/web/security.js';

/** Extracts the CSRF token from a page, as a browser's form would carry it. */
function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

describe('shared web infrastructure', () => {
  let ctx: TestContext;
  let app: express.Express;
  beforeAll(async () => {
    ctx = await startTestContext();
    app = express();
    app.set('view engine', 'ejs');
    app.set('views', new URL('../../views', import.meta.url).pathname);
    app.use(cspNonce, localeMiddleware(ctx.deps.i18n));
    const forms = express.Router();
    forms.use(formProtection(ctx.deps));
    forms.get('/form', (_req, res) => {
      res.send(
        `<form method="post"><input type="hidden" name="_csrf" value="${res.locals.csrfToken}"></form>`,
      );
    });
    forms.post('/form', (_req, res) => {
      res.send('accepted');
    });
    app.use(forms);
    app.use(errorHandler(ctx.deps.logger));
  });
  afterAll(async () => ctx?.close());

  it('accepts a form that carries the token from its page, with a secure session cookie', async () => {
    const agent = request.agent(app);
    const page = await agent.get('/form').expect(200);
    expect(page.headers['set-cookie']).toEqual([
      expect.stringMatching(/^candor\.sid=.*HttpOnly; SameSite=Lax$/),
    ]);
    await agent
      .post('/form')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(200, 'accepted');
  });

  it('refuses a form without a valid token with a plain explanation', async () => {
    const agent = request.agent(app);
    await agent.get('/form').expect(200);
    const refused = await agent.post('/form').type('form').send({ _csrf: 'forged' }).expect(403);
    expect(refused.text).toContain('This form has expired');
    await request(app).post('/form').type('form').send({}).expect(403);
  });

  it('refuses a form a browser says came from another site, even with a valid token', async () => {
    const agent = request.agent(app);
    const page = await agent.get('/form').expect(200);
    const token = csrfFrom(page.text);
    const post = () => agent.post('/form').type('form').send({ _csrf: token });
    await post().set('Origin', 'https://evil.example').expect(403);
    await post().set('Sec-Fetch-Site', 'cross-site').expect(403);
    await post()
      .set('Origin', new URL(ctx.config.publicBaseUrl).origin)
      .set('Sec-Fetch-Site', 'same-origin')
      .expect(200);
  });

  it('holds a rate limit in Redis, shared by every limiter with the same name', async () => {
    const first = createRateLimit(ctx.deps, { name: 'test', points: 2, durationSeconds: 60 });
    const second = createRateLimit(ctx.deps, { name: 'test', points: 2, durationSeconds: 60 });
    expect((await first.consume('client-a')).allowed).toBe(true);
    expect((await second.consume('client-a')).allowed).toBe(true);
    const third = await first.consume('client-a');
    expect(third.allowed).toBe(false);
    expect((await second.consume('client-b')).allowed).toBe(true);
  });
});
