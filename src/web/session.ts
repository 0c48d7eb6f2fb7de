import express, { type Request, type RequestHandler } from 'express';
import session from 'express-session';
import RedisStore from 'connect-redis';
import { csrfSync } from 'csrf-sync';
import type { Deps } from '../deps.js';
import { ForbiddenError } from '../platform/errors.js';

/**
 * Sessions live in Redis so any web process can serve any request. Only pages with forms or a
 * signed-in person use them: the public status page stays cookie-free and cacheable.
 */
export function sessions(deps: Pick<Deps, 'redis' | 'config'>): RequestHandler {
  return session({
    store: new RedisStore({ client: deps.redis, prefix: `${deps.config.queuePrefix}:session:` }),
    name: 'candor.sid',
    secret: deps.config.sessionSecret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.config.env === 'production',
      maxAge: 2 * 60 * 60 * 1000,
    },
  });
}

const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    return typeof body?._csrf === 'string' ? body._csrf : (req.get('x-csrf-token') ?? undefined);
  },
  errorConfig: {
    statusCode: 403,
    message: 'This form has expired. Go back, reload the page and try again.',
    code: 'EBADCSRFTOKEN',
  },
});

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A second line behind the CSRF token: a state-changing request a browser says came from another
 * site is refused. Browsers send `Sec-Fetch-Site` and `Origin` on every form post; a request with
 * neither (a script, a test client) is left to the token. The page's own origin is both the public
 * address and the address this request was made to (a site reached as 127.0.0.1 and as localhost).
 */
export function sameOriginOnly(publicBaseUrl: string): RequestHandler {
  const publicOrigin = new URL(publicBaseUrl).origin;
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.get('sec-fetch-site');
    const origin = req.get('origin');
    const ownOrigin = `${req.protocol}://${req.get('host') ?? ''}`;
    // Our own pages send `Referrer-Policy: no-referrer`, under which browsers send `Origin: null`:
    // that says nothing, and Sec-Fetch-Site decides.
    const foreignOrigin =
      origin !== undefined && origin !== 'null' && origin !== publicOrigin && origin !== ownOrigin;
    if (site === 'cross-site' || foreignOrigin) {
      next(new ForbiddenError('This form was sent from another site, so it was not accepted.'));
      return;
    }
    next();
  };
}

/**
 * Everything a page with a form needs, in order: a same-origin check and a session, the parsed form
 * body, a CSRF check on unsafe methods (on in tests too), and a token for the view (`csrfToken`).
 */
export function formProtection(deps: Pick<Deps, 'redis' | 'config'>): RequestHandler[] {
  return [
    sameOriginOnly(deps.config.publicBaseUrl),
    sessions(deps),
    express.urlencoded({ extended: false, limit: '100kb' }),
    csrfSynchronisedProtection,
    (req, res, next) => {
      res.locals.csrfToken = generateToken(req);
      next();
    },
  ];
}

/** A fresh session id on every step up in privilege, so a planted session id is worth nothing. */
export function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((error: unknown) =>
      error ? reject(error instanceof Error ? error : new Error('session regeneration failed')) : resolve(),
    ),
  );
}
