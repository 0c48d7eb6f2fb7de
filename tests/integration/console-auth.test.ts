import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import {
  csrfFrom,
  makeStaffAccount,
  signedInAgent,
  TEST_PASSWORD,
  uniqueClient,
} from '../support/console.js';
import { currentTotp } from '../../src/staff/totp.js';

describe('staff sign-in', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ env: { STAFF_SIGN_IN_ATTEMPTS: '3' } });
  });
  afterAll(async () => ctx?.close());

  async function attempt(client: string, email: string, password: string) {
    const agent = request.agent(ctx.baseUrl).set('X-Forwarded-For', client);
    const page = await agent.get('/console/sign-in').expect(200);
    const response = await agent
      .post('/console/sign-in')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email, password });
    return { agent, response };
  }

  it('lets an editor in with their password and authenticator code, on an HttpOnly SameSite session', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const { agent, response } = await attempt(uniqueClient(), editor.email, TEST_PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.location).toMatch(/^\/console\/sign-in\/code/);
    expect(String(response.headers['set-cookie'])).toMatch(/candor\.sid=.*HttpOnly; SameSite=Lax/);
    // Between the two steps, the console stays shut.
    await agent
      .get('/console')
      .expect(303)
      .expect('Location', /\/console\/sign-in/);
    const codePage = await agent.get('/console/sign-in/code').expect(200);
    expect(codePage.text).toContain('autocomplete="one-time-code"');
    await agent
      .post('/console/sign-in/code')
      .type('form')
      .send({ _csrf: csrfFrom(codePage.text), code: await currentTotp(editor.totpSecret!) })
      .expect(303);
    const home = await agent.get('/console').expect(200);
    expect(home.text).toContain('Test editor');
    expect(home.headers['cache-control']).toBe('no-store');
  });

  it('gives the same answer for an unknown email and a wrong password', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const wrong = await attempt(uniqueClient(), editor.email, 'not the password at all');
    const unknown = await attempt(uniqueClient(), 'nobody@staff.example', 'not the password at all');
    expect(wrong.response.status).toBe(400);
    expect(unknown.response.status).toBe(400);
    const message = (html: string) => /<p class="field-error"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1];
    expect(message(wrong.response.text)).toBe(message(unknown.response.text));
    expect(wrong.response.text).toContain('The email address or password is not right');
  });

  it('refuses a code that has already been used', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const code = await currentTotp(editor.totpSecret!);
    for (const expected of [303, 400]) {
      const { agent } = await attempt(uniqueClient(), editor.email, TEST_PASSWORD);
      const page = await agent.get('/console/sign-in/code').expect(200);
      await agent
        .post('/console/sign-in/code')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), code })
        .expect(expected);
    }
  });

  it('makes an approver without an authenticator set one up before anything else', async () => {
    const approver = await makeStaffAccount(ctx.deps, 'approver', { totp: false });
    const { agent, response } = await attempt(uniqueClient(), approver.email, TEST_PASSWORD);
    expect(response.headers.location).toBe('/console/second-factor/setup');
    await agent.get('/console').expect(303);
    const setup = await agent.get('/console/second-factor/setup').expect(200);
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(setup.text)?.[1];
    expect(secret).toBeTruthy();
    expect(setup.text).toContain('src="data:image/png;base64,');
    await agent
      .post('/console/second-factor/setup')
      .type('form')
      .send({ _csrf: csrfFrom(setup.text), code: '000000' })
      .expect(400);
    const again = await agent.get('/console/second-factor/setup').expect(200);
    await agent
      .post('/console/second-factor/setup')
      .type('form')
      .send({ _csrf: csrfFrom(again.text), code: await currentTotp(secret!) })
      .expect(303);
    await agent.get('/console').expect(200);
  });

  it('locks out a client guessing one account without locking out its owner elsewhere', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const attacker = uniqueClient();
    for (let i = 0; i < 3; i += 1) {
      expect((await attempt(attacker, editor.email, `guess number ${i} wrong`)).response.status).toBe(400);
    }
    const locked = await attempt(attacker, editor.email, TEST_PASSWORD);
    expect(locked.response.status).toBe(429);
    expect(locked.response.headers['retry-after']).toBeDefined();
    expect(locked.response.text).toContain('Too many attempts');
    // The owner, on their own machine, is not affected.
    const agent = await signedInAgent(ctx.baseUrl, editor);
    await agent.get('/console').expect(200);
  });

  it('sends a signed-out visitor to the sign-in page and back where they were going', async () => {
    const response = await request(ctx.baseUrl).get('/console/incidents/new').expect(303);
    expect(response.headers.location).toBe('/console/sign-in?next=%2Fconsole%2Fincidents%2Fnew');
  });

  it('ends the session on sign-out', async () => {
    const viewer = await makeStaffAccount(ctx.deps, 'viewer');
    const agent = await signedInAgent(ctx.baseUrl, viewer);
    const home = await agent.get('/console').expect(200);
    await agent
      .post('/console/sign-out')
      .type('form')
      .send({ _csrf: csrfFrom(home.text) })
      .expect(303);
    await agent.get('/console').expect(303);
    const actions = await eventually('the sign-out to be audited', async () => {
      const { rows } = await ctx.deps.db.query<{ action: string }>(
        `SELECT action FROM audit_log WHERE staff_id = $1 OR (subject_type = 'staff' AND subject_id = $1) ORDER BY id`,
        [viewer.id],
      );
      const names = rows.map((row) => row.action);
      return names.includes('staff.sign_out') && names;
    });
    expect(actions).toEqual(expect.arrayContaining(['staff.create', 'staff.sign_in', 'staff.sign_out']));
  });
});
