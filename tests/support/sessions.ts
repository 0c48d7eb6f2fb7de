import express from 'express';
import request from 'supertest';
import type { SessionData } from 'express-session';
import type { Deps } from '../../src/deps.js';
import { sessions } from '../../src/web/session.js';

/**
 * Arranges a signed-in session the way sign-in leaves one: through Candor's own session middleware
 * (Redis store, signed cookie with the configured secret), on a side door that only tests open.
 * Returns the `Cookie` header a browser would then send to any process sharing that Redis and secret.
 */
export async function arrangeSession(
  deps: Pick<Deps, 'redis' | 'config'>,
  data: Pick<SessionData, 'portal' | 'staff'>,
): Promise<string> {
  const app = express();
  app.use(sessions(deps));
  app.post('/arrange', (req, res) => {
    if (data.portal) req.session.portal = data.portal;
    if (data.staff) req.session.staff = data.staff;
    res.sendStatus(204);
  });
  const response = await request(app).post('/arrange').expect(204);
  const cookie = (response.headers['set-cookie'] as unknown as string[] | undefined)?.[0];
  if (!cookie) throw new Error('the session middleware set no cookie');
  return cookie.split(';')[0]!;
}

export function verifiedPerson(deps: Pick<Deps, 'redis' | 'config'>, personId: number): Promise<string> {
  return arrangeSession(deps, { portal: { personId, verifiedAt: Date.now() } });
}

export function signedInStaff(
  deps: Pick<Deps, 'redis' | 'config'>,
  staff: { id: number; role: string },
): Promise<string> {
  return arrangeSession(deps, { staff: { ...staff, secondFactorDone: true } });
}

/** The CSRF token in a page's form, as a browser's form would carry it. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}
