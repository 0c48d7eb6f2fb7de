import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { Deps } from '../../src/deps.js';
import { createStaffAccount } from '../../src/staff/accounts.js';
import { currentTotp } from '../../src/staff/totp.js';
import type { StaffRole } from '../../src/staff/store.js';
import { uniqueName } from './context.js';

export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestStaff {
  id: number;
  email: string;
  role: StaffRole;
  totpSecret: string | null;
}

/** A staff account with a password, and a second factor for every role by default (as the roles that need one have). */
export async function makeStaffAccount(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  role: StaffRole,
  options: { totp?: boolean } = {},
): Promise<TestStaff> {
  const email = `${uniqueName(role)}@staff.example`;
  const created = await createStaffAccount(deps, {
    email,
    displayName: `Test ${role}`,
    role,
    password: TEST_PASSWORD,
    totp: options.totp ?? true,
  });
  return { id: created.id, email, role, totpSecret: created.totpSecret };
}

/** Extracts the CSRF token from a page, as a browser's form would carry it. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

/**
 * Signs in through the real pages, like a browser: fetch the form, post the password, then the code.
 * Each agent gets its own client address so sign-in limits of one test never touch another.
 */
export async function signedInAgent(baseUrl: string, staff: TestStaff, client = uniqueClient()) {
  const agent = request.agent(baseUrl).set('X-Forwarded-For', client);
  const form = await agent.get('/console/sign-in').expect(200);
  const signIn = await agent
    .post('/console/sign-in')
    .type('form')
    .send({ _csrf: csrfFrom(form.text), email: staff.email, password: TEST_PASSWORD })
    .expect(303);
  if (staff.totpSecret) {
    if (!String(signIn.headers.location).startsWith('/console/sign-in/code'))
      throw new Error(`expected the code step, got ${signIn.headers.location}`);
    // A code is good once: if this account already signed in during this 30 seconds, use the next step's code.
    for (const offset of [0, 30_000]) {
      const codePage = await agent.get('/console/sign-in/code').expect(200);
      const code = await currentTotp(staff.totpSecret, new Date(Date.now() + offset));
      const answer = await agent
        .post('/console/sign-in/code')
        .type('form')
        .send({ _csrf: csrfFrom(codePage.text), code });
      if (answer.status === 303) break;
      if (offset > 0) throw new Error(`second factor refused: ${answer.status}`);
    }
  }
  return agent;
}

let clients = 0;
export function uniqueClient(): string {
  clients += 1;
  return `10.${process.pid % 250}.${Math.floor(clients / 250) % 250}.${clients % 250}`;
}

/** Posts a console form with the CSRF token of the page it lives on. */
export async function postForm(
  agent: TestAgent,
  pagePath: string,
  action: string,
  fields: Record<string, string | string[]>,
) {
  const page = await agent.get(pagePath).expect(200);
  return agent
    .post(action)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...fields });
}

/** The session cookie of a signed-in staff member, for tests that use plain fetch. */
export async function staffCookie(baseUrl: string, staff: TestStaff): Promise<string> {
  let cookie = '';
  const call = async (path: string, form?: Record<string, string>) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie,
        'x-forwarded-for': uniqueClient(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return { status: response.status, text: await response.text() };
  };
  const page = await call('/console/sign-in');
  await call('/console/sign-in', { _csrf: csrfFrom(page.text), email: staff.email, password: TEST_PASSWORD });
  if (staff.totpSecret) {
    for (const offset of [0, 30_000]) {
      const codePage = await call('/console/sign-in/code');
      const code = await currentTotp(staff.totpSecret, new Date(Date.now() + offset));
      if ((await call('/console/sign-in/code', { _csrf: csrfFrom(codePage.text), code })).status === 303)
        break;
    }
  }
  return cookie;
}
