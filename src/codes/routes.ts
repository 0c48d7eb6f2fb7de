import type { Express, RequestHandler } from 'express';
import type { Deps } from '../deps.js';
import { portalCodesRouter } from './portal-routes.js';
import { codesApiRouter } from './api-routes.js';

/**
 * Codes for the public: the person's page. The staff pages are rows of the console's route table
 * (codeConsoleRoutes, listed in src/console/index.ts). Given the API's key check, the JSON API too;
 * without `apiAuthenticate` the API routes are not mounted at all.
 */
export function registerCodes(
  app: Express,
  deps: Deps,
  options: { apiAuthenticate?: RequestHandler } = {},
): void {
  app.use(portalCodesRouter(deps));
  if (options.apiAuthenticate) app.use(codesApiRouter(deps, { authenticate: options.apiAuthenticate }));
}
