import express, { type RequestHandler } from 'express';
import session from 'express-session';
import RedisStore from 'connect-redis';
import { csrfSync } from 'csrf-sync';
import type { Deps } from '../deps.js';

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

/**
 * Everything a page with a form needs, in order: a session, the parsed form body, a CSRF check on
 * unsafe methods (on in tests too), and a token for the view (`csrfToken`).
 */
export function formProtection(deps: Pick<Deps, 'redis' | 'config'>): RequestHandler[] {
  return [
    sessions(deps),
    express.urlencoded({ extended: false, limit: '100kb' }),
    csrfSynchronisedProtection,
    (req, res, next) => {
      res.locals.csrfToken = generateToken(req);
      next();
    },
  ];
}
