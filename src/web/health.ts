import type { Express } from 'express';
import type { Deps } from '../deps.js';

/** Liveness says the process answers; readiness says it can reach PostgreSQL and Redis. */
export function registerHealth(app: Express, deps: Pick<Deps, 'db' | 'redis'>): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [database, redis] = await Promise.all([
      deps.db.query('SELECT 1').then(
        () => 'ok',
        () => 'unreachable',
      ),
      deps.redis.ping().then(
        () => 'ok',
        () => 'unreachable',
      ),
    ]);
    const ready = database === 'ok' && redis === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', database, redis });
  });
}
