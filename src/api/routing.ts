import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Deps } from '../deps.js';
import { can, type Permission } from '../staff/permissions.js';
import { auditTrail } from '../web/audit-trail.js';
import { createRateLimit } from '../platform/rate-limit.js';
import { statusOf } from '../web/errors.js';
import { isInvalidDatabaseInput } from '../platform/db.js';
import { authenticateApiKey } from './keys.js';
import { SCHEMAS, type SchemaName } from './schemas.js';
import { staffOf } from '../web/staff.js';

/**
 * The JSON API's route table. Each endpoint names its permission, its request and response shapes
 * and, for changes, its audit action; `mountApiRoutes` puts the key check, the rate limit, the audit
 * record, the permission check and the body validation in front of every handler. The OpenAPI
 * document and the authorization tests are built from the same table.
 */
export interface ApiRoute {
  method: 'get' | 'post';
  /** Express-style, below /api/v1: `/incidents/:id`. */
  path: string;
  operationId: string;
  summary: string;
  access: Permission;
  audit?: string;
  /**
   * The body: JSON checked against `schema`, and/or `text/csv` when `csv` describes its columns
   * (a route with `csv` and no `schema` takes CSV only).
   */
  body?: { schema?: SchemaName; csv?: string };
  query?: { name: string; required: boolean; description: string; schema: { type: string } }[];
  /** Status → the schema of the answer (`null` for no body). */
  responses: Record<number, SchemaName | null>;
  handler: RequestHandler;
}

export const API_BASE = '/api/v1';

export function problem(
  res: Response,
  status: number,
  title: string,
  extra: { detail?: string; errors?: { path: string; message: string }[]; [field: string]: unknown } = {},
): void {
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: 'about:blank', title, status, ...extra });
}

/** The schema validator, over the same components the OpenAPI document publishes. */
export function createSchemaValidator(): (name: SchemaName) => ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'candor-api', components: { schemas: SCHEMAS } });
  const cache = new Map<SchemaName, ValidateFunction>();
  return (name) => {
    let validate = cache.get(name);
    if (!validate) {
      validate = ajv.getSchema(`candor-api#/components/schemas/${name}`)!;
      cache.set(name, validate);
    }
    return validate;
  };
}

function authenticate(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const key = token ? await authenticateApiKey(deps, token) : null;
    if (!key) {
      res.set('WWW-Authenticate', 'Bearer realm="candor"');
      problem(res, 401, 'An API key is needed', {
        detail: 'Send a live API key as "Authorization: Bearer candor_…".',
      });
      return;
    }
    res.locals.staff = { ...key.staff, secondFactorDone: true };
    res.locals.apiKeyId = key.keyId;
    next();
  };
}

function rateLimited(deps: Deps): RequestHandler {
  const limit = createRateLimit(deps, {
    name: 'api',
    points: deps.config.apiRequestsPerMinute,
    durationSeconds: 60,
  });
  return async (_req, res, next) => {
    const answer = await limit.consume(String(res.locals.apiKeyId));
    if (!answer.allowed) {
      res.set('Retry-After', String(answer.retryAfterSeconds));
      problem(res, 429, 'Too many requests', {
        detail: `This key may make ${deps.config.apiRequestsPerMinute} requests a minute.`,
      });
      return;
    }
    next();
  };
}

function authorize(route: Pick<ApiRoute, 'access'>): RequestHandler {
  return (_req, res, next) => {
    const staff = staffOf(res);
    if (!can(staff.role, route.access)) {
      problem(res, 403, 'This key may not do that', {
        detail: `The ${staff.role} role does not hold ${route.access}.`,
      });
      return;
    }
    next();
  };
}

function validateBody(route: ApiRoute, validator: ReturnType<typeof createSchemaValidator>): RequestHandler {
  return (req, res, next) => {
    if (!route.body) return next();
    if (route.body.csv && req.is('text/csv')) return next();
    const schema = route.body.schema;
    if (!schema || !req.is('application/json')) {
      const accepted = [schema ? 'application/json' : null, route.body.csv ? 'text/csv' : null].filter(
        Boolean,
      );
      problem(res, 415, schema ? 'Send JSON' : 'Send CSV', {
        detail: `Use Content-Type: ${accepted.join(' or ')}.`,
      });
      return;
    }
    const validate = validator(schema);
    if (!validate(req.body)) {
      problem(res, 400, 'The request body is not valid', {
        errors: (validate.errors ?? []).map((error) => ({
          path: error.instancePath || '/',
          message: error.message ?? 'is not valid',
        })),
      });
      return;
    }
    next();
  };
}

export function mountApiRoutes(router: Router, deps: Deps, routes: readonly ApiRoute[]): void {
  const validator = createSchemaValidator();
  const json = express.json({ limit: '20mb' });
  const auth = authenticate(deps);
  const limit = rateLimited(deps);
  const actor = (res: Response) => ({
    staffId: res.locals.staff?.id ?? null,
    apiKeyId: res.locals.apiKeyId ?? null,
  });
  for (const route of routes) {
    const audit = route.method === 'post' ? [auditTrail(deps, route.audit ?? route.operationId, actor)] : [];
    router[route.method](
      `${API_BASE}${route.path}`,
      auth,
      limit,
      ...audit,
      authorize(route),
      json,
      validateBody(route, validator),
      route.handler,
    );
  }
}

/** Errors thrown by API handlers, as problem documents: a clear title, never internals. */
export function apiErrors(deps: Pick<Deps, 'logger'>) {
  return (error: unknown, req: Request, res: Response, next: (error?: unknown) => void) => {
    if (!req.path.startsWith(API_BASE)) return next(error);
    if (res.headersSent) return next(error);
    const status = statusOf(error);
    if (status >= 500 && status !== 503) {
      deps.logger.error({ err: error, path: req.path, method: req.method }, 'api request failed');
      problem(res, status, 'Something went wrong on our side');
      return;
    }
    // PostgreSQL's own words about a refused value describe our schema, not the caller's mistake.
    const detail = isInvalidDatabaseInput(error)
      ? 'The request holds a value that cannot be used (a NUL character, or a number out of range).'
      : error instanceof Error
        ? error.message
        : undefined;
    problem(
      res,
      status,
      status === 503 ? 'Try again shortly' : (detail ?? 'Bad request'),
      detail ? { detail } : {},
    );
  };
}
