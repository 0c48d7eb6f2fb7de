import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { csrfFrom, uniqueClient } from '../support/console.js';
import { DEMO_PASSWORD, DEMO_STAFF, ensureDemoCredentials, seedDemo } from '../../src/demo/seed.js';
import { currentTotp } from '../../src/staff/totp.js';

describe('the demo staff', () => {
  let ctx: TestContext;
  let secret: string;
  let adminSecret: string;
  beforeAll(async () => {
    ctx = await startTestContext();
    const seed = await seedDemo(ctx.deps, 2);
    ({ approverTotpSecret: secret, adminTotpSecret: adminSecret } = await ensureDemoCredentials(
      ctx.deps,
      seed,
    ));
  });
  afterAll(async () => ctx?.close());

  async function signIn(email: string) {
    const agent = request.agent(ctx.baseUrl).set('X-Forwarded-For', uniqueClient());
    const form = await agent.get('/console/sign-in').expect(200);
    const answer = await agent
      .post('/console/sign-in')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email, password: DEMO_PASSWORD })
      .expect(303);
    return { agent, next: String(answer.headers.location) };
  }

  it('lets the demo editor sign in with the printed password alone', async () => {
    const { agent, next } = await signIn(DEMO_STAFF.editor);
    expect(next).toBe('/console');
    await agent.get('/console').expect(200);
  });

  it('asks the demo approver for a code from the printed authenticator key', async () => {
    const { agent, next } = await signIn(DEMO_STAFF.approver);
    expect(next).toMatch(/^\/console\/sign-in\/code/);
    const page = await agent.get('/console/sign-in/code').expect(200);
    await agent
      .post('/console/sign-in/code')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: await currentTotp(secret) })
      .expect(303);
    await agent.get('/console').expect(200);
  });

  it('lets the demo admin in with a code, to the pages the editor and approver cannot open', async () => {
    const { agent, next } = await signIn(DEMO_STAFF.admin);
    expect(next).toMatch(/^\/console\/sign-in\/code/);
    const page = await agent.get('/console/sign-in/code').expect(200);
    await agent
      .post('/console/sign-in/code')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: await currentTotp(adminSecret) })
      .expect(303);
    for (const path of ['/console/staff', '/console/support', '/console/audit', '/console/queues'])
      expect((await agent.get(path)).status, path).toBe(200);
  });

  it('keeps the same keys and does not reset a changed password on the next run', async () => {
    const seed = await seedDemo(ctx.deps, 2);
    expect(await ensureDemoCredentials(ctx.deps, seed)).toEqual({
      approverTotpSecret: secret,
      adminTotpSecret: adminSecret,
    });
  });
});
