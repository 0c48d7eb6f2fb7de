import type { Request, RequestHandler, Response, Router } from 'express';
import type { Deps } from '../deps.js';
import { auditTrail } from '../web/audit-trail.js';
import { can, isStaffRole, type Permission } from '../staff/permissions.js';
import { findActiveStaff } from '../staff/store.js';
import { formProtection, sessions } from '../web/session.js';

/**
 * The staff console's route table. Every page names who may use it; `mountConsoleRoutes` puts the
 * session, CSRF, the permission check and the audit record in front of each handler, so no route can
 * forget them, and the authorization tests are generated from the same table.
 *
 * - `public`: the sign-in page.
 * - `pending`: reachable between password and second factor (the TOTP pages), not after sign-out.
 * - a Permission: signed in with every factor the account needs, and the role holds the permission.
 */
export type Access = 'public' | 'pending' | Permission;

export interface ConsoleRoute {
  method: 'get' | 'post';
  path: string;
  access: Access;
  /** Name recorded in the audit log for a state-changing route (post). */
  audit?: string;
  /** `multipart` routes read the CSRF token from the form's first field themselves (see imports). */
  body?: 'form' | 'multipart';
  handler: RequestHandler;
}

export function clientOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * Reads the signed-in member fresh on each request: a changed role, a switched-off account or a reset
 * authenticator (a new session epoch) bites at once, with no need to find their sessions in Redis.
 */
export function loadStaff(deps: Pick<Deps, 'db'>): RequestHandler {
  return async (req, res, next) => {
    const session = req.session?.staff;
    if (session) {
      const member = await findActiveStaff(deps.db, session.id);
      if (member && isStaffRole(member.role) && member.sessionEpoch === (session.epoch ?? 0)) {
        res.locals.staff = { ...member, secondFactorDone: session.secondFactorDone };
        if (session.secondFactorDone) res.locals.can = (permission) => can(member.role, permission);
      } else {
        delete req.session.staff;
      }
    }
    next();
  };
}

function authorize(route: ConsoleRoute): RequestHandler {
  return (req, res, next) => {
    if (route.access === 'public') return next();
    const staff = res.locals.staff;
    if (route.access === 'pending') {
      if (staff) return next();
      return res.redirect(303, '/console/sign-in');
    }
    if (!staff || !staff.secondFactorDone) {
      if (req.method === 'GET') {
        return res.redirect(303, `/console/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
      }
      return res.status(401).render('console/errors/refused', {
        title: res.locals.t('console:errors.signInTitle'),
        message: res.locals.t('console:errors.signInBody'),
      });
    }
    if (!can(staff.role, route.access)) {
      return res.status(403).render('console/errors/refused', {
        title: res.locals.t('console:errors.forbiddenTitle'),
        message: res.locals.t('console:errors.forbiddenBody'),
      });
    }
    next();
  };
}

export function mountConsoleRoutes(router: Router, deps: Deps, routes: readonly ConsoleRoute[]): void {
  const forms = formProtection(deps);
  const session = sessions(deps);
  const staff = loadStaff(deps);
  const actor = (res: Response) => ({ staffId: res.locals.staff?.id ?? null, apiKeyId: null });
  for (const route of routes) {
    const body: RequestHandler[] =
      route.body === 'multipart'
        ? [
            session,
            (req, res, next) => {
              // The page's token, for a multipart handler that re-renders; it checks the posted one itself.
              res.locals.csrfToken = typeof req.session.csrfToken === 'string' ? req.session.csrfToken : '';
              next();
            },
          ]
        : forms;
    const audit =
      route.method === 'post' && route.access !== 'public'
        ? [auditTrail(deps, route.audit ?? `${route.method} ${route.path}`, actor)]
        : [];
    router[route.method](route.path, ...body, staff, ...audit, authorize(route), route.handler);
  }
}

/** The permission check of the table, for pages mounted outside it (after `loadStaff`). */
export function authorizeAccess(permission: Permission): RequestHandler {
  return authorize({ method: 'get', path: '', access: permission, handler: () => undefined });
}

/** For a page outside the console's table (the sandbox outbox): signed-in staff holding `permission` only. */
export function staffOnly(deps: Deps, permission: Permission): RequestHandler[] {
  return [...formProtection(deps), loadStaff(deps), authorizeAccess(permission)];
}
