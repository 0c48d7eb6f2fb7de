import type { Express, Request, RequestHandler, Response } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { detectLocale } from '../web/locale.js';
import { staticSecurityHeaders } from '../web/security.js';
import {
  cacheControl,
  chooseEncoding,
  etagFor,
  incidentFeedPath,
  incidentPagePath,
  INDEX_PATH,
  matchesEtag,
  VARY,
  type Encoding,
  type StatusDocument,
} from './documents.js';
import { findDocument, peekDocument, type CopySource } from './copies.js';
import { publishMissingSnapshot, type SnapshotDeps } from './snapshot.js';

type StatusPageDeps = SnapshotDeps;

/** The public pages that are published snapshots rather than rendered per request. */
const ROUTES = ['/', '/incidents/:slug', '/incidents/:slug/feed.atom'];

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** The published document a request is for, or null for an address that cannot be one. */
function documentPathOf(req: Request): { path: string; slug: string | null } | null {
  const slug = req.params.slug;
  if (typeof slug !== 'string') return { path: INDEX_PATH, slug: null };
  if (!SLUG.test(slug)) return null;
  return {
    path: req.path.endsWith('/feed.atom') ? incidentFeedPath(slug) : incidentPagePath(slug),
    slug,
  };
}

/**
 * Writes a published document: the encoding the client takes best, its own strong ETag, a 304 when
 * the client already has it, and headers worked out once. The pages carry no script, so their content
 * security policy is the same for every answer (no nonce) and the answer can be shared by caches.
 */
function bodyOf(document: StatusDocument, encoding: Encoding): Buffer {
  return encoding === 'br' ? document.br : encoding === 'gzip' ? document.gzip : document.body;
}

function documentWriter(deps: Pick<Deps, 'config'>) {
  const shared = {
    ...staticSecurityHeaders({ production: deps.config.env === 'production' }),
    Vary: VARY,
  };
  const publicCaching = cacheControl(deps.config.statusPage);
  const headersFor = (
    document: StatusDocument,
    encoding: Encoding,
    source: CopySource,
    cacheable: boolean,
  ): Record<string, string> => {
    const headers: Record<string, string> = {
      ...shared,
      'Cache-Control': cacheable ? publicCaching : 'private, no-cache',
      ETag: etagFor(document, encoding),
      'Content-Language': document.locale,
      'Content-Type': document.contentType,
      'X-Candor-Cache': source,
    };
    if (document.location) headers.Location = document.location;
    if (encoding !== 'identity') headers['Content-Encoding'] = encoding;
    headers['Content-Length'] = String(bodyOf(document, encoding).length);
    return headers;
  };
  // The surge is served from memory with public caching: its headers are worked out once per document.
  const prepared = new WeakMap<StatusDocument, Record<Encoding, Record<string, string>>>();
  const memoryHeaders = (document: StatusDocument) => {
    let headers = prepared.get(document);
    if (!headers) {
      headers = {
        br: headersFor(document, 'br', 'memory', true),
        gzip: headersFor(document, 'gzip', 'memory', true),
        identity: headersFor(document, 'identity', 'memory', true),
      };
      prepared.set(document, headers);
    }
    return headers;
  };
  return (
    req: Request,
    res: Response,
    document: StatusDocument,
    source: CopySource,
    options: { cacheable: boolean },
  ): void => {
    const encoding = chooseEncoding(req.headers['accept-encoding']);
    const headers =
      source === 'memory' && options.cacheable
        ? memoryHeaders(document)[encoding]
        : headersFor(document, encoding, source, options.cacheable);
    if (matchesEtag(req.headers['if-none-match'], headers.ETag!)) {
      // A 304 describes the representation the client has, but carries no body of its own.
      const notModified = Object.entries(headers).filter(
        ([name]) => name !== 'Content-Type' && name !== 'Content-Length',
      );
      res.writeHead(304, Object.fromEntries(notModified)).end();
      return;
    }
    res.writeHead(document.status, headers).end(bodyOf(document, encoding));
  };
}

/**
 * The hot path when everyone arrives at once: a plain request (no query) for a page this process holds
 * is answered from memory before any per-request middleware. Anything else goes the ordinary way.
 */
export function registerStatusPageFastPath(app: Express, deps: StatusPageDeps): void {
  const write = documentWriter(deps);
  const handler: RequestHandler = (req, res, next) => {
    if (req.url.includes('?')) return next();
    const target = documentPathOf(req);
    const document = target && peekDocument(deps, target.path, detectLocale(req));
    if (!document) return next();
    write(req, res, document, 'memory', { cacheable: true });
  };
  // One route each, so metrics label requests by their own template.
  for (const route of ROUTES) app.get(route, handler);
}

/**
 * The public incident page (what happened, what to do, how to tell it is really us, helplines, a
 * dated timeline), its Atom feed, and the index of published incidents, in the reader's language,
 * served from the snapshot published with the last change: memory, Redis, then PostgreSQL.
 */
export function registerStatusPage(app: Express, deps: StatusPageDeps): void {
  const write = documentWriter(deps);
  const handler: RequestHandler = async (req, res) => {
    const target = documentPathOf(req);
    if (!target) throw new NotFoundError('no such incident');
    const lang = res.locals.lang;
    let found = await findDocument(deps, target.path, lang);
    if (!found && (await publishMissingSnapshot(deps, target.slug))) {
      found = await findDocument(deps, target.path, lang);
    }
    if (!found) throw new NotFoundError('no such incident');
    // A ?lang= choice sets the language cookie; a shared cache must not hand that answer to others.
    const cacheable = res.getHeader('Set-Cookie') === undefined;
    write(req, res, found.document, found.source, { cacheable });
  };
  for (const route of ROUTES) app.get(route, handler);
}
