import express, { type Express } from 'express';
import type { Deps } from '../deps.js';
import { mountConsoleRoutes, type ConsoleRoute } from './routing.js';
import { letterConsoleRoutes } from '../letters/routes.js';
import { authRoutes } from './auth/routes.js';
import { incidentRoutes } from './incidents/routes.js';
import { importRoutes } from './imports/routes.js';
import { campaignRoutes } from './campaigns/routes.js';
import { codeConsoleRoutes, codeStockBanner } from '../codes/console-routes.js';
import { apiKeyRoutes } from './api-keys/routes.js';
import { checklistRoutes } from './checklist/routes.js';
import { exportRoutes } from './exports/routes.js';
import { deliveryRoutes } from './deliveries/routes.js';
import { auditRoutes } from './audit/routes.js';
import { mountQueueDashboard } from './queues.js';
import { templateRoutes } from './templates/routes.js';
import { supportRoutes } from './support/routes.js';
import { staffRoutes } from './staff/routes.js';

/** Every staff console route, in one table: mounted by registerConsole, and read by the authorization tests. */
export function consoleRoutes(deps: Deps): ConsoleRoute[] {
  return [
    ...authRoutes(deps),
    ...incidentRoutes(deps),
    ...importRoutes(deps),
    ...campaignRoutes(deps),
    ...letterConsoleRoutes(deps),
    ...codeConsoleRoutes(deps),
    ...apiKeyRoutes(deps),
    ...checklistRoutes(deps),
    ...exportRoutes(deps),
    ...deliveryRoutes(deps),
    ...auditRoutes(deps),
    ...templateRoutes(deps),
    ...supportRoutes(deps),
    ...staffRoutes(deps),
  ];
}

export function registerConsole(app: Express, deps: Deps): void {
  const router = express.Router();
  // Staff pages are private and change with every action: never cached by a browser or a proxy.
  router.use('/console', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.use('/console', codeStockBanner(deps));
  mountConsoleRoutes(router, deps, consoleRoutes(deps));
  mountQueueDashboard(router, deps);
  app.use(router);
}
