import path from 'node:path';
import { fileURLToPath } from 'node:url';
import compression from 'compression';
import express from 'express';
import type { Deps } from './deps.js';
import { cspNonce, securityHeaders } from './web/security.js';
import { localeMiddleware, timeLocals } from './web/locale.js';
import { rejectMalformedInput } from './web/input-guard.js';
import { errorHandler, notFound } from './web/errors.js';
import { registerHealth } from './web/health.js';
import { registerFonts } from './web/fonts.js';
import { measureRequests, registerMetrics } from './web/metrics.js';
import { registerWebhooks } from './deliveries/webhooks.js';
import { registerInbound } from './inbound/routes.js';
import { registerStatusPage, registerStatusPageFastPath } from './status-page/routes.js';
import { registerSandboxOutbox } from './sandbox-outbox/routes.js';
import { registerVoiceRoutes } from './voice/routes.js';
import { registerUnsubscribe } from './subscriptions/unsubscribe-routes.js';
import { registerConsole } from './console/index.js';
import { registerApi } from './api/index.js';
import { registerLookup } from './lookup/routes.js';
import { registerPersonalPage } from './personal-page/routes.js';
import { registerSupport } from './support/routes.js';
import { registerSubscriptions } from './subscriptions/routes.js';
import { registerCodes } from './codes/register.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the web app from deps; listening and signals belong to the entry point. */
export function createApp(deps: Deps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', path.join(ROOT, 'views'));
  if (deps.config.env === 'production') app.enable('view cache');

  app.use(measureRequests(deps.metrics));
  app.use(rejectMalformedInput);
  // Before any other per-request middleware: see registerStatusPageFastPath.
  registerStatusPageFastPath(app, deps);
  // Provider webhooks (delivery receipts) are machine-to-machine posts answered with a status and no
  // page: they need no compression, CSP nonce, security headers or locale, which cost every request.
  registerWebhooks(app, deps);
  // After the fast path, and never over a status document: those are stored compressed in each
  // encoding they are offered in, with an ETag per encoding, and are written as they are. Only pages
  // read (GET, HEAD): a form's answer is a redirect or a short error page, often sent before its
  // body has been read (a refused or oversize post), and a compressed, chunked answer then had the
  // connection cut under a client still sending (tests/integration/hostile-input.test.ts).
  app.use(
    compression({
      filter: (req, res) =>
        (req.method === 'GET' || req.method === 'HEAD') &&
        !res.hasHeader('X-Candor-Cache') &&
        compression.filter(req, res),
    }),
  );
  app.use(cspNonce, securityHeaders({ production: deps.config.env === 'production' }));
  registerFonts(app);
  app.use('/assets', express.static(path.join(ROOT, 'public'), { maxAge: '1h' }));
  // Browsers ask for /favicon.ico whatever the page links.
  app.get('/favicon.ico', (_req, res) => {
    res.sendFile(path.join(ROOT, 'public', 'favicon.ico'), { maxAge: '1d' });
  });
  app.use(localeMiddleware(deps.i18n), timeLocals(deps.config.sending.defaultTimeZone));

  registerHealth(app, deps);
  registerMetrics(app, deps, 'token');
  registerInbound(app, deps);
  registerVoiceRoutes(app, deps);
  registerStatusPage(app, deps);
  registerLookup(app, deps);
  registerPersonalPage(app, deps);
  registerSupport(app, deps);
  registerSubscriptions(app, deps);
  registerSandboxOutbox(app, deps);
  registerUnsubscribe(app, deps);
  registerConsole(app, deps);
  registerCodes(app, deps);
  registerApi(app, deps);

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}

/**
 * What an operations listener serves: liveness, readiness and metrics, nothing else. A worker-only
 * process serves it on WORKER_HTTP_PORT; a web process on 127.0.0.1:METRICS_PORT. No proxy stands in
 * front of either, so "a request from this machine" can be told from the connection itself.
 */
export function createOpsApp(deps: Deps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  registerHealth(app, deps);
  registerMetrics(app, deps, 'loopback-or-token');
  return app;
}
