import crypto from 'node:crypto';
import type { Express, RequestHandler } from 'express';
import type { Metrics } from '../platform/metrics.js';

/**
 * Times every request under its route template (never its path: ids and slugs would explode the
 * labels). Cheap enough for the cached status page: one listener, and a labelled child per series
 * kept here rather than looked up by prom-client's label hashing on every request.
 */
export function measureRequests(metrics: Metrics): RequestHandler {
  const series = new Map<string, { observe(seconds: number): void }>();
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const route = req.route
        ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}`
        : 'unmatched';
      const key = `${req.method} ${route} ${res.statusCode}`;
      let child = series.get(key);
      if (!child) {
        child = metrics.httpRequests.labels(req.method, route, String(res.statusCode));
        series.set(key, child);
      }
      child.observe((performance.now() - started) / 1000);
    });
    next();
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Who may read `GET /metrics` on a listener:
 * - `token`: the public port. Only `Authorization: Bearer <METRICS_TOKEN>`; with no token set, no
 *   metrics at all. A "this machine only" rule cannot hold here: behind a reverse proxy on the same
 *   host every request comes from loopback, whatever its X-Forwarded-For says.
 * - `loopback-or-token`: a listener no proxy stands in front of (the loopback metrics port, a worker's
 *   health port): the token, or a connection from this machine itself.
 */
export type MetricsAccess = 'token' | 'loopback-or-token';

export function registerMetrics(
  app: Express,
  deps: { metrics: Metrics; config: { metricsToken: string | null } },
  access: MetricsAccess,
) {
  const token = deps.config.metricsToken;
  if (access === 'token' && !token) return;
  app.get('/metrics', async (req, res) => {
    const allowed =
      (token !== null && safeEqual(req.get('authorization') ?? '', `Bearer ${token}`)) ||
      (access === 'loopback-or-token' && LOOPBACK.has(req.socket.remoteAddress ?? ''));
    if (!allowed) {
      res
        .status(401)
        .type('text/plain')
        .send('Metrics need the METRICS_TOKEN, or a request from this machine.\n');
      return;
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}

function safeEqual(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
