import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import {
  csrfFrom,
  makeStaffAccount,
  postForm,
  signedInAgent,
  TEST_PASSWORD,
  uniqueClient,
  type TestStaff,
} from '../support/console.js';
import { makeApiKey } from '../support/api.js';
import { currentTotp } from '../../src/staff/totp.js';
import { LastAdminError, setStaffRole, switchOffStaff } from '../../src/staff/accounts.js';
import { INVITATION_LIFETIME_HOURS } from '../../src/staff/invitations.js';
import type { Clock } from '../../src/platform/clock.js';
import type { StaffRole } from '../../src/staff/store.js';

const NEW_PASSWORD = 'a new colleague chose this';

/** The real time, moved on by `offset`: invitations expire by the app's clock, everything else runs now. */
function movableClock(): Clock & { offsetMs: number } {
  const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };
  return clock;
}

async function auditEntry(ctx: TestContext, action: string, subjectId: number, outcome = 'ok') {
  return eventually(`${action} on ${subjectId} in the audit log`, async () => {
    const { rows } = await ctx.deps.db.query<{ staff_id: number | null; details: Record<string, unknown> }>(
      'SELECT staff_id, details FROM audit_log WHERE action = $1 AND subject_id = $2 AND outcome = $3',
      [action, subjectId, outcome],
    );
    return rows[0];
  });
}

async function apiStatus(ctx: TestContext, token: string): Promise<number> {
  const response = await fetch(`${ctx.baseUrl}/api/v1/incidents`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return response.status;
}

/** Whether an agent's session still opens the console (a signed-out one is sent to sign in). */
async function stillSignedIn(agent: TestAgent): Promise<boolean> {
  const response = await agent.get('/console');
  if (response.status === 200) return true;
  expect(response.status).toBe(303);
  expect(response.headers.location).toMatch(/^\/console\/sign-in/);
  return false;
}

async function passwordStep(baseUrl: string, email: string, password = TEST_PASSWORD) {
  const agent = request.agent(baseUrl).set('X-Forwarded-For', uniqueClient());
  const form = await agent.get('/console/sign-in').expect(200);
  const answer = await agent
    .post('/console/sign-in')
    .type('form')
    .send({ _csrf: csrfFrom(form.text), email, password });
  return { agent, answer };
}

/** Enrols an authenticator on the setup page, as the person would with their phone; returns its secret. */
async function enrol(agent: TestAgent): Promise<string> {
  const page = await agent.get('/console/second-factor/setup').expect(200);
  const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(page.text)?.[1];
  if (!secret) throw new Error('no authenticator key on the setup page');
  await agent
    .post('/console/second-factor/setup')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), code: await currentTotp(secret) })
    .expect(303)
    .expect('Location', '/console');
  return secret;
}

describe('staff management in the console', () => {
  let ctx: TestContext;
  const clock = movableClock();
  let admin: TestStaff;
  let adminAgent: TestAgent;

  beforeAll(async () => {
    ctx = await startTestContext({ clock });
    admin = await makeStaffAccount(ctx.deps, 'admin');
    adminAgent = await signedInAgent(ctx.baseUrl, admin);
  });
  afterAll(async () => ctx?.close());

  async function invite(email: string, role: StaffRole, displayName = 'New Colleague') {
    const answer = await postForm(adminAgent, '/console/staff', '/console/staff/invitations', {
      displayName,
      email,
      role,
    });
    expect(answer.status).toBe(200);
    const link = /data-testid="invitation-link">([^<]+)</.exec(answer.text)?.[1];
    if (!link) throw new Error('no invitation link on the page');
    return new URL(link).pathname;
  }

  async function accept(path: string, password = NEW_PASSWORD) {
    const agent = request.agent(ctx.baseUrl).set('X-Forwarded-For', uniqueClient());
    const page = await agent.get(path);
    if (page.status !== 200) return { agent, status: page.status, location: undefined };
    const answer = await agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), password, confirm: password });
    return { agent, status: answer.status, location: answer.headers.location };
  }

  async function staffIdOf(email: string): Promise<number | null> {
    const { rows } = await ctx.deps.db.query<{ id: number }>('SELECT id FROM staff WHERE email_hash = $1', [
      ctx.deps.vault.hash('staff_email', email),
    ]);
    return rows[0]?.id ?? null;
  }

  it('invites a colleague, who sets a password, enrols an authenticator and signs in with the invited role', async () => {
    const email = 'new.approver@staff.example';
    const path = await invite(email, 'approver', 'Noor Approver');
    const list = await adminAgent.get('/console/staff').expect(200);
    expect(list.text).toContain('Noor Approver');
    expect(list.text).not.toContain(path);

    // The password they choose is the one the test sign-in helper types.
    const { agent, status, location } = await accept(path, TEST_PASSWORD);
    expect(status).toBe(303);
    expect(location).toBe('/console/second-factor/setup');
    // Until the authenticator is enrolled, no page opens.
    await agent.get('/console').expect(303);
    const secret = await enrol(agent);
    await agent.get('/console/audit').expect(200);
    await agent.get('/console/staff').expect(403);

    const id = (await staffIdOf(email))!;
    const invitation = await ctx.deps.db.query<{ id: number }>(
      'SELECT id FROM staff_invitations WHERE accepted_staff_id = $1',
      [id],
    );
    expect((await auditEntry(ctx, 'staff.invite', invitation.rows[0]!.id)).staff_id).toBe(admin.id);
    expect((await auditEntry(ctx, 'staff.invitation_accept', id)).details).toMatchObject({
      role: 'approver',
    });

    // A fresh sign-in asks for the password and then the code from the enrolled app.
    const again = await signedInAgent(ctx.baseUrl, { id, email, role: 'approver', totpSecret: secret });
    await again.get('/console/audit').expect(200);
    const { rows } = await ctx.deps.db.query<{ last_signed_in_at: Date | null }>(
      'SELECT last_signed_in_at FROM staff WHERE id = $1',
      [id],
    );
    const lastSignIn = rows[0]!.last_signed_in_at!.toISOString().slice(0, 16).replace('T', ' ');
    const account = await adminAgent.get(`/console/staff/${id}`).expect(200);
    expect(account.text).toContain('Noor Approver');
    expect(account.text).toContain(`${lastSignIn} UTC`);
  });

  it('refuses an invitation link a second time, after it expires, and after it is withdrawn', async () => {
    const used = await invite('used.once@staff.example', 'editor');
    expect((await accept(used)).status).toBe(303);
    expect((await accept(used)).status).toBe(410);
    const usedAgain = await request(ctx.baseUrl).get(used).expect(410);
    expect(usedAgain.text).toContain('This invitation link does not work');

    const lapsed = await invite('too.late@staff.example', 'editor');
    const page = request.agent(ctx.baseUrl).set('X-Forwarded-For', uniqueClient());
    const form = await page.get(lapsed).expect(200);
    clock.offsetMs = (INVITATION_LIFETIME_HOURS + 1) * 3600 * 1000;
    try {
      await page
        .post(lapsed)
        .type('form')
        .send({ _csrf: csrfFrom(form.text), password: NEW_PASSWORD, confirm: NEW_PASSWORD })
        .expect(410);
      await request(ctx.baseUrl).get(lapsed).expect(410);
    } finally {
      clock.offsetMs = 0;
    }
    expect(await staffIdOf('too.late@staff.example')).toBeNull();

    const withdrawn = await invite('changed.mind@staff.example', 'viewer');
    const { rows } = await ctx.deps.db.query<{ id: number }>(
      'SELECT id FROM staff_invitations WHERE email_hash = $1 AND withdrawn_at IS NULL',
      [ctx.deps.vault.hash('staff_email', 'changed.mind@staff.example')],
    );
    const invitationId = rows[0]!.id;
    expect(
      (
        await postForm(
          adminAgent,
          '/console/staff',
          `/console/staff/invitations/${invitationId}/withdraw`,
          {},
        )
      ).status,
    ).toBe(303);
    expect((await accept(withdrawn)).status).toBe(410);
    expect(await staffIdOf('changed.mind@staff.example')).toBeNull();
    await auditEntry(ctx, 'staff.invitation_withdraw', invitationId);

    await request(ctx.baseUrl)
      .get(`/console/invitations/${'A'.repeat(43)}`)
      .expect(404);
  });

  it('refuses a mismatched password, and an invitation to an address that already has an account', async () => {
    const path = await invite('typo.prone@staff.example', 'agent');
    const agent = request.agent(ctx.baseUrl).set('X-Forwarded-For', uniqueClient());
    const page = await agent.get(path).expect(200);
    const answer = await agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}!` })
      .expect(400);
    expect(answer.text).toContain('The two passwords are not the same');
    expect(await staffIdOf('typo.prone@staff.example')).toBeNull();

    const taken = await postForm(adminAgent, '/console/staff', '/console/staff/invitations', {
      displayName: 'Someone',
      email: admin.email,
      role: 'viewer',
    });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('That email address already has an account');
  });

  it('changes a role, which their session follows on the next click', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const editorAgent = await signedInAgent(ctx.baseUrl, editor);
    await editorAgent.get('/console/support').expect(403);
    const answer = await postForm(
      adminAgent,
      `/console/staff/${editor.id}`,
      `/console/staff/${editor.id}/role`,
      {
        role: 'agent',
      },
    );
    expect(answer.status).toBe(303);
    await editorAgent.get('/console/support').expect(200);
    expect((await auditEntry(ctx, 'staff.set_role', editor.id)).details).toEqual({
      from: 'editor',
      to: 'agent',
    });
  });

  it('resets an authenticator: their sessions end and they enrol again at the next sign-in', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const editorAgent = await signedInAgent(ctx.baseUrl, editor);
    expect(await stillSignedIn(editorAgent)).toBe(true);

    const answer = await postForm(
      adminAgent,
      `/console/staff/${editor.id}`,
      `/console/staff/${editor.id}/reset-authenticator`,
      {},
    );
    expect(answer.status).toBe(303);
    expect(await stillSignedIn(editorAgent)).toBe(false);

    // An editor's role needs no second factor, but after a reset they enrol one before anything opens.
    const { agent, answer: signIn } = await passwordStep(ctx.baseUrl, editor.email);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.location).toBe('/console/second-factor/setup');
    await agent.get('/console').expect(303);
    const secret = await enrol(agent);
    expect(secret).not.toBe(editor.totpSecret);
    await agent.get('/console').expect(200);
    await auditEntry(ctx, 'staff.reset_authenticator', editor.id);
  });

  it('switches an account off: its sessions and API keys stop at once; switched on, old sessions stay ended', async () => {
    // Without an authenticator: it signs in three times here, and a code is good only once.
    const member = await makeStaffAccount(ctx.deps, 'agent', { totp: false });
    const { token } = await makeApiKey(ctx.deps, 'agent', { owner: member });
    const used = await signedInAgent(ctx.baseUrl, member);
    const idle = await signedInAgent(ctx.baseUrl, member);
    expect(await stillSignedIn(used)).toBe(true);
    expect(await stillSignedIn(idle)).toBe(true);
    expect(await apiStatus(ctx, token)).toBe(200);

    const off = await postForm(
      adminAgent,
      `/console/staff/${member.id}`,
      `/console/staff/${member.id}/switch-off`,
      {},
    );
    expect(off.status).toBe(303);
    expect(await stillSignedIn(used)).toBe(false);
    expect(await apiStatus(ctx, token)).toBe(401);
    expect((await passwordStep(ctx.baseUrl, member.email)).answer.status).toBe(400);
    expect((await adminAgent.get(`/console/staff/${member.id}`).expect(200)).text).toContain(
      'switched off since',
    );

    const on = await postForm(
      adminAgent,
      `/console/staff/${member.id}`,
      `/console/staff/${member.id}/switch-on`,
      {},
    );
    expect(on.status).toBe(303);
    // The session that made no request while the account was off is still over.
    expect(await stillSignedIn(idle)).toBe(false);
    expect(await apiStatus(ctx, token)).toBe(200);
    const fresh = await signedInAgent(ctx.baseUrl, member);
    expect(await stillSignedIn(fresh)).toBe(true);

    expect((await auditEntry(ctx, 'staff.switch_off', member.id)).staff_id).toBe(admin.id);
    await auditEntry(ctx, 'staff.switch_on', member.id);
  });

  it('refuses every staff page and action to a non-admin, and audits the refusal', async () => {
    const approver = await makeStaffAccount(ctx.deps, 'approver');
    const agent = await signedInAgent(ctx.baseUrl, approver);
    await agent.get('/console/staff').expect(403);
    await agent.get(`/console/staff/${admin.id}`).expect(403);
    const home = await agent.get('/console').expect(200);
    expect(home.text).not.toContain('href="/console/staff"');
    await agent
      .post(`/console/staff/${admin.id}/switch-off`)
      .type('form')
      .send({ _csrf: csrfFrom(home.text) })
      .expect(403);
    await auditEntry(ctx, 'staff.switch_off', admin.id, 'refused');
    expect(await stillSignedIn(adminAgent)).toBe(true);
  });
});

describe('the last active admin', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(async () => ctx?.close());

  async function activeAdmins(): Promise<number> {
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM staff WHERE role = 'admin' AND disabled_at IS NULL`,
    );
    return rows[0]!.n;
  }

  it('cannot be demoted or switched off, from the console or anywhere else', async () => {
    const only = await makeStaffAccount(ctx.deps, 'admin');
    const agent = await signedInAgent(ctx.baseUrl, only);
    const demote = await postForm(agent, `/console/staff/${only.id}`, `/console/staff/${only.id}/role`, {
      role: 'editor',
    });
    expect(demote.status).toBe(409);
    expect(demote.text).toContain('This is the last admin whose account is on');
    const off = await postForm(
      agent,
      `/console/staff/${only.id}`,
      `/console/staff/${only.id}/switch-off`,
      {},
    );
    expect(off.status).toBe(409);
    await expect(switchOffStaff(ctx.deps, { staffId: only.id })).rejects.toBeInstanceOf(LastAdminError);
    expect(await activeAdmins()).toBe(1);
    await agent.get('/console/staff').expect(200);

    // With a second admin, either may step down.
    const second = await makeStaffAccount(ctx.deps, 'admin');
    await setStaffRole(ctx.deps, { staffId: second.id, role: 'editor' });
    expect(await activeAdmins()).toBe(1);
  });

  it('survives admins removing each other at the same moment: exactly one stays', async () => {
    const admins = await Promise.all([1, 2, 3, 4].map(() => makeStaffAccount(ctx.deps, 'admin')));
    const { rows } = await ctx.deps.db.query<{ id: number }>(
      `SELECT id FROM staff WHERE role = 'admin' AND disabled_at IS NULL`,
    );
    const everyone = rows.map((row) => row.id);
    expect(everyone).toEqual(expect.arrayContaining(admins.map((admin) => admin.id)));
    const outcomes = await Promise.allSettled(
      everyone.map((staffId, i) =>
        i % 2 === 0
          ? setStaffRole(ctx.deps, { staffId, role: 'viewer' })
          : switchOffStaff(ctx.deps, { staffId }),
      ),
    );
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(refused.length).toBe(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(LastAdminError);
    expect(await activeAdmins()).toBe(1);
  });
});
