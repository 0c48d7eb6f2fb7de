import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../platform/logger.js';
import { isDatabaseUnavailable, isInvalidDatabaseInput } from '../platform/db.js';
import { isRedisUnavailable } from '../platform/redis.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../platform/errors.js';

export function statusOf(error: unknown): number {
  if (error instanceof ValidationError || isInvalidDatabaseInput(error)) return 400;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof UnavailableError) return 503;
  // body-parser and friends mark client errors (malformed JSON, too large) with a 4xx status.
  if (typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number') {
    if (error.status >= 400 && error.status < 500) return error.status;
  }
  // A backing service away (PostgreSQL restarting, Redis down): the client may try again shortly.
  if (isDatabaseUnavailable(error) || isRedisUnavailable(error)) return 503;
  return 500;
}

function wantsJson(path: string): boolean {
  return path.startsWith('/api/') || path.startsWith('/webhooks/');
}

export const notFound: RequestHandler = (req, res) => {
  if (wantsJson(req.path)) {
    res.status(404).type('application/problem+json').json({ title: 'Not found', status: 404 });
    return;
  }
  res.status(404).render('errors/error', {
    status: 404,
    title: res.locals.t('errors.notFoundTitle'),
    message: res.locals.t('errors.notFoundBody'),
  });
};

/** The one error handler: a clear page or problem document, never internals. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const status = statusOf(error);
    const known = status < 500 || status === 503;
    if (status === 503)
      logger.warn({ err: (error as Error).message, path: req.path }, 'request failed: a service is away');
    else if (status >= 500)
      logger.error({ err: error, path: req.path, method: req.method }, 'request failed');
    // PostgreSQL's own words about a refused value describe our schema, not the caller's mistake.
    const detail = isInvalidDatabaseInput(error)
      ? 'The request holds a value that cannot be used.'
      : known && error instanceof Error
        ? error.message
        : undefined;
    if (isInvalidDatabaseInput(error))
      logger.warn({ err: (error as Error).message, path: req.path }, 'a value reached PostgreSQL unchecked');
    if (res.headersSent) return;
    if (wantsJson(req.path)) {
      res
        .status(status)
        .type('application/problem+json')
        .json({ title: known ? (detail ?? 'Bad request') : 'Internal error', status });
      return;
    }
    const t = res.locals.t;
    const title =
      status === 503
        ? t('errors.unavailableTitle')
        : status >= 500
          ? t('errors.serverTitle')
          : status === 404
            ? t('errors.notFoundTitle')
            : t('errors.badRequestTitle');
    const message =
      status === 503 ? t('errors.unavailableBody') : status >= 500 ? t('errors.serverBody') : (detail ?? '');
    res.status(status).render('errors/error', { status, title, message });
  };
}
