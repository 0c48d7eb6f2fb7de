import type { Express, RequestHandler } from 'express';
import type { Deps } from '../deps.js';
import { portalCodesRouter } from './portal-routes.js';
import { consoleCodesRouter } from './console-routes.js';
import { codesApiRouter } from './api-routes.js';

/**
 * Codes on every side: the person's page, the staff console, and (given the API's key check) the
 * JSON API. Without `apiAuthenticate` the API routes are not mounted at all.
 */
export function registerCodes(
  app: Express,
  deps: Deps,
  options: { apiAuthenticate?: RequestHandler } = {},
): void {
  app.use(portalCodesRouter(deps));
  app.use(consoleCodesRouter(deps));
  if (options.apiAuthenticate) app.use(codesApiRouter(deps, { authenticate: options.apiAuthenticate }));
}
