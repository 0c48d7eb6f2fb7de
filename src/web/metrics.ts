import crypto from 'node:crypto';
import type { Express, RequestHandler } from 'express';
import type { Metrics } from '../platform/metrics.js';

/** Records one answered request under its route template; one per Metrics, shared by every path. */
export type RequestRecorder = (method: string, route: string, status: number, seconds: number) => void;

const recorders = new WeakMap<Metrics, RequestRecorder>();

/**
 * The recorder of a Metrics: a labelled child per series kept here rather than looked up by
 * prom-client's label hashing on every request, so the cached status page can afford it.
 */
export function requestRecorder(metrics: Metrics): RequestRecorder {
  let recorder = recorders.get(metrics);
  if (!recorder) {
    const series = new Map<string, { observe(seconds: number): void }>();
    recorder = (method, route, status, seconds) => {
      const key = `${method} ${route} ${status}`;
      let child = series.get(key);
      if (!child) {
        child = metrics.httpRequests.labels(method, route, String(status));
        series.set(key, child);
      }
      child.observe(seconds);
    };
    recorders.set(metrics, recorder);
  }
  return recorder;
}

/**
 * Times every request under its route template (never its path: ids and slugs would explode the
 * labels). The status page's fast path, which answers before Express, records through the same
 * recorder under the same templates.
 */
export function measureRequests(metrics: Metrics): RequestHandler {
  const record = requestRecorder(metrics);
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const route = req.route
        ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}`
        : 'unmatched';
      record(req.method, route, res.statusCode, (performance.now() - started) / 1000);
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
