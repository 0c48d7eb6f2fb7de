import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { makeStaffAccount } from '../support/console.js';
import { signedInStaff, verifiedPerson } from '../support/sessions.js';
import { mountedRoutes, type MountedRoute } from '../support/routes.js';
import { createApp } from '../../src/app.js';

/** What an attacker puts where an id or a slug goes. */
const HOSTILE_SEGMENTS = [
  '%00',
  'x%00y',
  '%FF%FE',
  '%',
  '%E0%A4%A',
  '99999999999999999999999999',
  '-1',
  '0',
  '1.5',
  'abc',
  "1'%20OR%20'1'%3D'1",
  '%E2%80%AE%3Cscript%3E',
];
/** Query strings: unknown, missing, repeated, malformed and NUL-carrying parameters. */
const HOSTILE_QUERIES = [
  '',
  '?incident=abc',
  '?incident=%00',
  '?id=1&id=2',
  '?lang=%FF',
  '?page=-1&limit=1e309',
  '?q=%',
];
/** Bodies in the wrong shape or type, with NUL characters, or far too large. */
const HOSTILE_BODIES: { type: string; body: string }[] = [
  {
    type: 'application/json',
    body: '{"slug":"a\\u0000b","texts":{"en":{"title":"\\u0000"}},"code":"\\u0000"}',
  },
  { type: 'application/json', body: '{"broken": ' },
  { type: 'application/x-www-form-urlencoded', body: 'email=a%00b&code=%00&_csrf=x&x=1&x=2' },
  { type: 'text/csv', body: 'code\n\0\n' },
  { type: 'text/plain', body: 'hello' },
  { type: 'application/json', body: JSON.stringify({ pad: 'x'.repeat(21 * 1024 * 1024) }) },
];

function pathsFor(route: MountedRoute): string[] {
  const hasParam = /[:*]\w+/.test(route.path);
  const segments = hasParam ? HOSTILE_SEGMENTS : [''];
  return segments.map((value) => route.path.replace(/[:*](\w+)/g, value || '$1'));
}

/**
 * Every route the app mounts (portal, console, API, webhooks, voice, sandbox, anything added later:
 * read from the app itself, so a new route is covered without editing this test), sent hostile
 * input with and without a session. None may answer 5xx, the process keeps serving, and no answer to
 * a request without a session holds a person's personal data.
 */
describe('every route, with hostile input', () => {
  let ctx: TestContext;
  let routes: MountedRoute[];
  let secrets: string[];
  let staffCookie: string;
  let personCookie: string;

  beforeAll(async () => {
    ctx = await startTestContext();
    const incident = await makeIncident(ctx.deps);
    const [person] = await makePeople(ctx.deps, incident.id, [
      makePerson({
        name: 'Zebedee Quartermain',
        email: 'zebedee.quartermain@example.com',
        phone: '+447700900555',
        postalAddress: '7 Quince Lane\nBristol BS1 4XX',
      }),
    ]);
    await makeApprovedCampaign(ctx.deps, incident.id);
    secrets = ['Zebedee', 'Quartermain', 'zebedee.quartermain', '7700900555', 'Quince Lane'];
    if (person?.referenceCode) secrets.push(person.referenceCode);
    const admin = await makeStaffAccount(ctx.deps, 'admin');
    staffCookie = await signedInStaff(ctx.deps, { id: admin.id, role: 'admin' });
    personCookie = await verifiedPerson(ctx.deps, person!.id);
    routes = mountedRoutes(createApp(ctx.deps));
  });
  afterAll(async () => ctx?.close());

  async function probe(cookie: string | null) {
    const failures: string[] = [];
    const leaks: string[] = [];
    const send = async (method: string, path: string, body?: { type: string; body: string }) => {
      let call = method === 'get' ? request(ctx.server).get(path) : request(ctx.server).post(path);
      if (cookie) call = call.set('Cookie', cookie);
      if (body) call = call.set('Content-Type', body.type).send(body.body);
      const answer = await call.redirects(0).ok(() => true);
      const what = `${method.toUpperCase()} ${path.slice(0, 120)}${body ? ` [${body.type}, ${body.body.length} bytes]` : ''}`;
      if (answer.status >= 500 && answer.status !== 503) failures.push(`${what} → ${answer.status}`);
      if (!cookie) {
        const text = `${answer.text ?? ''}${JSON.stringify(answer.headers)}`;
        for (const secret of secrets) if (text.includes(secret)) leaks.push(`${what} shows "${secret}"`);
      }
    };
    for (const route of routes) {
      if (route.method !== 'get' && route.method !== 'post') continue;
      for (const path of pathsFor(route)) {
        for (const query of HOSTILE_QUERIES) await send(route.method, `${path}${query}`);
        if (route.method === 'post')
          for (const body of HOSTILE_BODIES.slice(0, -1)) await send('post', path, body);
      }
      // One oversize body per route is enough to see it refused rather than read.
      if (route.method === 'post') await send('post', pathsFor(route)[0]!, HOSTILE_BODIES.at(-1));
    }
    return { failures, leaks };
  }

  it('answers no 5xx and shows no personal data without a session', async () => {
    expect(routes.length).toBeGreaterThan(50);
    const { failures, leaks } = await probe(null);
    expect(failures).toEqual([]);
    expect(leaks).toEqual([]);
    expect((await request(ctx.server).get('/healthz')).status).toBe(200);
  }, 300_000);

  it('answers no 5xx to a signed-in admin either', async () => {
    const { failures } = await probe(staffCookie);
    expect(failures).toEqual([]);
    expect((await request(ctx.server).get('/healthz')).status).toBe(200);
  }, 300_000);

  it('answers no 5xx to a person signed in on the portal either', async () => {
    const { failures } = await probe(personCookie);
    expect(failures).toEqual([]);
  }, 300_000);
});
