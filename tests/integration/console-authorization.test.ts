import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { csrfFrom, makeStaffAccount, signedInAgent } from '../support/console.js';
import { consoleRoutes } from '../../src/console/index.js';
import type { ConsoleRoute } from '../../src/console/routing.js';
import { can, PERMISSIONS } from '../../src/staff/permissions.js';
import { STAFF_ROLES, type StaffRole } from '../../src/staff/store.js';
import { apiRouteTable } from '../../src/api/index.js';
import { API_BASE, type ApiRoute } from '../../src/api/routing.js';
import { makeApiKey } from '../support/api.js';

/**
 * Generated from the console's route table: a route added tomorrow is checked here without anyone
 * writing a test for it. Every route that needs a permission must refuse each role without it.
 */
function concretePath(route: ConsoleRoute): string {
  return route.path.replace(/:(\w+)/g, '1');
}

describe('staff console authorization, from the route table', () => {
  let ctx: TestContext;
  const agents = new Map<StaffRole, { agent: TestAgent; csrf: string }>();
  let routes: ConsoleRoute[];
  beforeAll(async () => {
    ctx = await startTestContext();
    routes = consoleRoutes(ctx.deps);
    for (const role of STAFF_ROLES) {
      const agent = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, role));
      const home = await agent.get('/console').expect(200);
      agents.set(role, { agent, csrf: csrfFrom(home.text) });
    }
  });
  afterAll(async () => ctx?.close());

  it('has a permission or an explicit public or sign-in step on every route', () => {
    for (const route of routes) {
      const ok = route.access === 'public' || route.access === 'pending' || route.access in PERMISSIONS;
      expect(ok, `${route.method} ${route.path}`).toBe(true);
    }
    const open = routes.filter((route) => route.access === 'public').map((route) => route.path);
    // Signing in, and accepting an invitation: the link's token is the credential (src/staff/invitations).
    expect([...new Set(open)]).toEqual(['/console/sign-in', '/console/invitations/:token']);
  });

  it('refuses every role that lacks the permission, on every route', async () => {
    let checked = 0;
    for (const route of routes) {
      if (route.access === 'public' || route.access === 'pending') continue;
      for (const role of STAFF_ROLES) {
        if (can(role, route.access)) continue;
        const { agent, csrf } = agents.get(role)!;
        const response =
          route.method === 'get'
            ? await agent.get(concretePath(route))
            : await agent.post(concretePath(route)).type('form').send({ _csrf: csrf });
        expect(response.status, `${role} ${route.method.toUpperCase()} ${route.path}`).toBe(403);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('sends a signed-out visitor to sign in, and refuses their forms', async () => {
    for (const route of routes) {
      if (route.access === 'public' || route.access === 'pending') continue;
      const visitor = request(ctx.baseUrl);
      if (route.method === 'get') {
        const response = await visitor.get(concretePath(route));
        expect(response.status, route.path).toBe(303);
        expect(response.headers.location, route.path).toMatch(/^\/console\/sign-in\?next=/);
      } else {
        const response = await visitor.post(concretePath(route)).type('form').send({});
        expect([401, 403], route.path).toContain(response.status);
      }
    }
  });

  it('records a refused action in the audit log', async () => {
    const { agent, csrf } = agents.get('viewer')!;
    await agent.post('/console/incidents').type('form').send({ _csrf: csrf }).expect(403);
    await eventually('the refusal to be audited', async () => {
      const { rowCount } = await ctx.deps.db.query(
        `SELECT 1 FROM audit_log WHERE action = 'incident.create' AND outcome = 'refused'`,
      );
      return (rowCount ?? 0) > 0;
    });
  });
});

describe('JSON API authorization, from the API route table', () => {
  let ctx: TestContext;
  const tokens = new Map<StaffRole, string>();
  let routes: ApiRoute[];
  beforeAll(async () => {
    ctx = await startTestContext();
    routes = apiRouteTable(ctx.deps);
    for (const role of STAFF_ROLES) tokens.set(role, (await makeApiKey(ctx.deps, role)).token);
  });
  afterAll(async () => ctx?.close());

  const send = (route: ApiRoute, token: string | null) =>
    fetch(`${ctx.baseUrl}${API_BASE}${route.path.replace(/:(\w+)/g, '1')}`, {
      method: route.method.toUpperCase(),
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(route.method === 'post' ? { 'content-type': 'application/json' } : {}),
      },
      ...(route.method === 'post' ? { body: '{}' } : {}),
    });

  it('names a known permission on every endpoint', () => {
    for (const route of routes) expect(route.access in PERMISSIONS, route.path).toBe(true);
  });

  it('refuses every role that lacks the permission, on every endpoint, as a problem document', async () => {
    let checked = 0;
    for (const route of routes) {
      for (const role of STAFF_ROLES) {
        if (can(role, route.access)) continue;
        const response = await send(route, tokens.get(role)!);
        expect(response.status, `${role} ${route.method.toUpperCase()} ${route.path}`).toBe(403);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('refuses every endpoint without a key', async () => {
    for (const route of routes) {
      const response = await send(route, null);
      expect(response.status, `${route.method.toUpperCase()} ${route.path}`).toBe(401);
    }
  });
});
