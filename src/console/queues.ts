import type { RequestHandler, Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Deps } from '../deps.js';
import { sessions } from '../web/session.js';
import { authorizeAccess, loadStaff } from './routing.js';
import { auditTrail } from '../web/audit-trail.js';

export const QUEUE_DASHBOARD_PATH = '/console/queues';

/**
 * Bull Board, for the admin watching the sends: every queue, its waiting, failed and completed jobs.
 * Behind admin sign-in. Its own page posts with fetch and carries no CSRF token, so the session
 * cookie's SameSite=Lax is what keeps other sites from driving it; every change it makes is audited.
 */
export function mountQueueDashboard(router: Router, deps: Deps): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: deps.queues.all().map((queue) => new BullMQAdapter(queue)),
    // @bull-board/express carries its own copy of @bull-board/api (9.10.1 beside our 9.10.2): the same
    // adapter interface, declared twice, so TypeScript needs telling they match.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'Candor queues' } },
  });
  const board = serverAdapter.getRouter() as RequestHandler;
  router.use(
    QUEUE_DASHBOARD_PATH,
    sessions(deps),
    (req, res, next) => {
      // For the console's own refusal page (its sign-out form); the board itself needs no token.
      res.locals.csrfToken = typeof req.session.csrfToken === 'string' ? req.session.csrfToken : '';
      next();
    },
    loadStaff(deps),
    auditTrail(deps, 'queues.dashboard_action', (res) => ({
      staffId: res.locals.staff?.id ?? null,
      apiKeyId: null,
    })),
    authorizeAccess('queues:dashboard'),
    (_req, res, next) => {
      // The board's React UI sets inline styles; scripts stay 'self' only. Its web font from Google is
      // left blocked on purpose: the admin's browser should not call a third party from the console.
      res.set(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'",
      );
      next();
    },
    board,
  );
}
