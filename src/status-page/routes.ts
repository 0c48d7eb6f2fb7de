import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, RequestHandler } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
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
import { findDocument, type CopySource } from './copies.js';
import { publishMissingSnapshot, type SnapshotDeps } from './snapshot.js';

type StatusPageDeps = SnapshotDeps;

/** The public pages that are published snapshots rather than rendered per request. */
export const ROUTES = {
  index: '/',
  page: '/incidents/:slug',
  feed: '/incidents/:slug/feed.atom',
} as const;

export type StatusRoute = (typeof ROUTES)[keyof typeof ROUTES];

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

/**
 * The published document a route and slug are for, or null for an address that cannot be one. Both
 * ways in use it: the Express routes with their parameters, the fast path with what it read off the URL.
 */
export function documentTarget(
  route: StatusRoute,
  slug: string | undefined,
): { path: string; slug: string | null } | null {
  if (route === ROUTES.index) return { path: INDEX_PATH, slug: null };
  if (slug === undefined || !SLUG.test(slug)) return null;
  return { path: route === ROUTES.feed ? incidentFeedPath(slug) : incidentPagePath(slug), slug };
}

/**
 * Writes a published document: the encoding the client takes best, its own strong ETag, a 304 when
 * the client already has it, and headers worked out once. The pages carry no script, so their content
 * security policy is the same for every answer (no nonce) and the answer can be shared by caches.
 */
function bodyOf(document: StatusDocument, encoding: Encoding): Buffer {
  return encoding === 'br' ? document.br : encoding === 'gzip' ? document.gzip : document.body;
}

export type DocumentWriter = (
  req: IncomingMessage,
  res: ServerResponse,
  document: StatusDocument,
  source: CopySource,
  options: { cacheable: boolean },
) => void;

/** One writer per app (its headers are worked out once), used by the fast path and the routes alike. */
export function documentWriter(deps: Pick<Deps, 'config'>): DocumentWriter {
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
  // A 304 describes the representation the client has, but carries no body of its own.
  const notModifiedHeaders = (headers: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(headers).filter(([name]) => name !== 'Content-Type' && name !== 'Content-Length'),
    );
  type Answers = Record<Encoding, { ok: Record<string, string>; notModified: Record<string, string> }>;
  // The surge is served from memory with public caching: its headers are worked out once per document.
  const prepared = new WeakMap<StatusDocument, Answers>();
  const memoryHeaders = (document: StatusDocument) => {
    let answers = prepared.get(document);
    if (!answers) {
      const both = (ok: Record<string, string>) => ({ ok, notModified: notModifiedHeaders(ok) });
      answers = {
        br: both(headersFor(document, 'br', 'memory', true)),
        gzip: both(headersFor(document, 'gzip', 'memory', true)),
        identity: both(headersFor(document, 'identity', 'memory', true)),
      };
      prepared.set(document, answers);
    }
    return answers;
  };
  return (req, res, document, source, options) => {
    const encoding = chooseEncoding(req.headers['accept-encoding']);
    const memory = source === 'memory' && options.cacheable;
    const headers = memory
      ? memoryHeaders(document)[encoding].ok
      : headersFor(document, encoding, source, options.cacheable);
    if (matchesEtag(req.headers['if-none-match'], headers.ETag!)) {
      res
        .writeHead(304, memory ? memoryHeaders(document)[encoding].notModified : notModifiedHeaders(headers))
        .end();
      return;
    }
    res.writeHead(document.status, headers).end(bodyOf(document, encoding));
  };
}

/**
 * The public incident page (what happened, what to do, how to tell it is really us, helplines, a
 * dated timeline), its Atom feed, and the index of published incidents, in the reader's language,
 * served from the snapshot published with the last change: memory, Redis, then PostgreSQL.
 */
export function registerStatusPage(app: Express, deps: StatusPageDeps): void {
  const write = documentWriter(deps);
  const handlerFor =
    (route: StatusRoute): RequestHandler =>
    async (req: Request, res) => {
      const slug = req.params.slug;
      const target = documentTarget(route, typeof slug === 'string' ? slug : undefined);
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
  for (const route of Object.values(ROUTES)) app.get(route, handlerFor(route));
}
