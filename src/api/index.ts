import express, { type Express } from 'express';
import type { Deps } from '../deps.js';
import { API_BASE, apiErrors, mountApiRoutes, problem } from './routing.js';
import { apiRoutes } from './routes.js';
import { codeApiRoutes } from '../codes/api-routes.js';
import { buildOpenApiDocument } from './openapi.js';

/** The JSON API at /api/v1: the route table, its OpenAPI document, and problem documents for every error. */
export function registerApi(app: Express, deps: Deps): void {
  // Each feature owns its rows; the table, the document and the checks are one.
  const routes = [...apiRoutes(deps), ...codeApiRoutes(deps)];
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
