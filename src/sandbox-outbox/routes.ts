import type { Express } from 'express';
import type { Deps } from '../deps.js';
import { listOutbox } from './store.js';
import { staffOnly } from '../console/routing.js';

/**
 * What the sandbox provider "sent", rendered as each person would receive it. It shows personal data,
 * so it exists only outside production; the staff console serves it behind sign-in.
 */
export function registerSandboxOutbox(app: Express, deps: Deps): void {
  if (deps.config.env === 'production') return;
  app.get('/sandbox/outbox', ...staffOnly(deps, 'outbox:read'), async (_req, res) => {
    const { entries, total } = await listOutbox(deps.db, deps.vault, 200);
    res.render('sandbox-outbox/index', { entries, total });
  });
}
