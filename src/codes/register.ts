import type { Express } from 'express';
import type { Deps } from '../deps.js';
import { portalCodesRouter } from './portal-routes.js';

/**
 * Codes for the public: the person's page. The staff pages are rows of the console's route table
 * (codeConsoleRoutes, listed in src/console/index.ts), and the API rows of the API's route table
 * (codeApiRoutes, listed in src/api/index.ts).
 */
export function registerCodes(app: Express, deps: Deps): void {
  app.use(portalCodesRouter(deps));
}
