import express, { type Express } from 'express';
import type { Deps } from '../deps.js';
import { API_BASE, apiErrors, mountApiRoutes, problem, type ApiRoute } from './routing.js';
import { incidentApiRoutes } from '../incidents/api-routes.js';
import { importApiRoutes } from '../imports/api-routes.js';
import { campaignApiRoutes } from '../campaigns/api-routes.js';
import { deliveryApiRoutes } from '../deliveries/api-routes.js';
import { codeApiRoutes } from '../codes/api-routes.js';
import { buildOpenApiDocument } from './openapi.js';

/** Every /api/v1 endpoint: each feature owns its rows; the table, the document and the checks are one. */
export function apiRouteTable(deps: Deps): ApiRoute[] {
  return [
    ...incidentApiRoutes(deps),
    ...importApiRoutes(deps),
    ...campaignApiRoutes(deps),
    ...deliveryApiRoutes(deps),
    ...codeApiRoutes(deps),
  ];
}

/** The JSON API at /api/v1: the route table, its OpenAPI document, and problem documents for every error. */
export function registerApi(app: Express, deps: Deps): void {
  const routes = apiRouteTable(deps);
  const document = buildOpenApiDocument(routes, deps.config.publicBaseUrl);
  const router = express.Router();
  router.use(API_BASE, (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.get(`${API_BASE}/openapi.json`, (_req, res) => {
    res.json(document);
  });
  mountApiRoutes(router, deps, routes);
  router.use(API_BASE, (_req, res) => problem(res, 404, 'There is no such endpoint'));
  router.use(apiErrors(deps));
  app.use(router);
}
