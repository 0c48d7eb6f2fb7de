import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Deps } from '../deps.js';
import { chooseLocale } from '../web/locale.js';
import { requestRecorder } from '../web/metrics.js';
import { peekDocument } from './copies.js';
import { documentTarget, documentWriter, ROUTES, type StatusRoute } from './routes.js';

export type FastPathDeps = Pick<Deps, 'db' | 'redis' | 'config' | 'logger' | 'metrics'>;

const INCIDENTS = '/incidents/';
const FEED = '/feed.atom';

/**
 * The route a raw request URL is certainly for, with its slug, or null when it takes any judgement:
 * a query string (`?lang=` sets a cookie), percent-encoding, a trailing slash, capitals, dots. Those
 * go to Express, whose routing and input guard decide as they always have; what is matched here is
 * plain ASCII that Express would route the same way, with nothing to decode.
 */
function routeOf(url: string): { route: StatusRoute; slug: string | undefined } | null {
  if (url === '/') return { route: ROUTES.index, slug: undefined };
  if (!url.startsWith(INCIDENTS)) return null;
  const rest = url.slice(INCIDENTS.length);
  if (rest.endsWith(FEED)) return { route: ROUTES.feed, slug: rest.slice(0, -FEED.length) };
  return { route: ROUTES.page, slug: rest };
}

/**
 * Answers a plain GET or HEAD of a status document this process holds in memory (the page, its feed,
 * the index) in the raw `http` listener, before Express and its middleware, and hands every other
 * request to `app` untouched. When everyone arrives at once this is nearly every request, and it
 * then costs about what a bare `res.send('hello')` does (bench/status-page.bench.ts).
 *
 * The answer is the one the Express route gives (tests/integration/status-page-fast-path.test.ts
 * compares them): the same writer, headers and 304s (src/status-page/routes.ts), the same choice of
 * language (chooseLocale in src/web/locale.ts, with no ?lang= since a query goes to Express), and the
 * same request metric under the same route template. Nothing here logs: Express logs no successful
 * request either.
 */
export function withStatusPageFastPath(deps: FastPathDeps, app: RequestListener): RequestListener {
  const write = documentWriter(deps);
  const record = requestRecorder(deps.metrics);
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || !req.url) return app(req, res);
    const matched = routeOf(req.url);
    const target = matched && documentTarget(matched.route, matched.slug);
    if (!matched || !target) return app(req, res);
    const locale = chooseLocale({
      query: undefined,
      cookie: req.headers.cookie,
      acceptLanguage: req.headers['accept-language'],
    });
    const document = peekDocument(deps, target.path, locale);
    if (!document) return app(req, res);
    write(req, res, document, 'memory', { cacheable: true });
    // Timed to the end of writing, not to 'finish': the bytes are in memory, and a listener per
    // request would cost more than the answer itself.
    record(method, matched.route, res.statusCode, (performance.now() - started) / 1000);
  };
}
