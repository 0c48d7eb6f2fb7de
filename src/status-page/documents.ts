import crypto from 'node:crypto';

/**
 * One published public page in one locale, as served: the bytes in every encoding we offer, made once
 * per publish, so answering costs no rendering and no compression. Pure data and pure helpers.
 */
export interface StatusDocument {
  /** The URL path it answers, e.g. `/incidents/acme-2026` or `/incidents/acme-2026/feed.atom` or `/`. */
  path: string;
  locale: string;
  /** The publish that made it (a PostgreSQL sequence): a copy with a lower number is behind. */
  version: number;
  /** 200, or 303 for the index when there is only one incident to go to. */
  status: number;
  location: string | null;
  contentType: string;
  /** Strong validator of the uncompressed bytes; each encoding adds its own suffix. */
  etag: string;
  body: Buffer;
  gzip: Buffer;
  br: Buffer;
  publishedAt: Date;
}

export type Encoding = 'br' | 'gzip' | 'identity';

export function documentKey(path: string, locale: string): string {
  return `${path}\n${locale}`;
}

export function incidentPagePath(slug: string): string {
  return `/incidents/${slug}`;
}

export function incidentFeedPath(slug: string): string {
  return `/incidents/${slug}/feed.atom`;
}

export const INDEX_PATH = '/';

export function strongEtag(body: Buffer): string {
  return `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/**
 * A strong ETag belongs to one representation (RFC 9110 §8.8.3): the gzip and brotli bodies are other
 * byte sequences, so they carry other tags, as a CDN that stores each variant expects.
 */
export function etagFor(document: Pick<StatusDocument, 'etag'>, encoding: Encoding): string {
  return encoding === 'identity' ? document.etag : `${document.etag.slice(0, -1)}-${encoding}"`;
}

/**
 * The encoding to send for an Accept-Encoding header: brotli (smallest), then gzip, then none. A coding
 * with q=0 is refused; `*` stands for any coding not named.
 */
export function chooseEncoding(header: string | undefined): Encoding {
  if (!header) return 'identity';
  const known = chosen.get(header);
  if (known) return known;
  const encoding = parseAcceptEncoding(header);
  // Browsers send a handful of distinct headers; a bound keeps odd clients from growing the map.
  if (chosen.size < 256) chosen.set(header, encoding);
  return encoding;
}

const chosen = new Map<string, Encoding>();

function parseAcceptEncoding(header: string): Encoding {
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find(Boolean);
    weights.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const weight = (name: string) => weights.get(name) ?? weights.get('*') ?? 0;
  const br = weight('br');
  const gzip = Math.max(weight('gzip'), weights.get('x-gzip') ?? 0);
  if (br > 0 && br >= gzip) return 'br';
  if (gzip > 0) return 'gzip';
  return 'identity';
}

/** Whether an If-None-Match header names this tag (weak comparison, as RFC 9110 §13.1.2 asks). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}

export interface CacheLifetimes {
  maxAgeSeconds: number;
  staleWhileRevalidateSeconds: number;
  staleIfErrorSeconds: number;
}

/**
 * Shared caches may keep the page briefly and refresh it in the background, and keep serving their
 * copy for a long time if Candor cannot answer: the page must outlast an outage at the origin too.
 */
export function cacheControl(lifetimes: CacheLifetimes): string {
  return [
    'public',
    `max-age=${lifetimes.maxAgeSeconds}`,
    `stale-while-revalidate=${lifetimes.staleWhileRevalidateSeconds}`,
    `stale-if-error=${lifetimes.staleIfErrorSeconds}`,
  ].join(', ');
}

/** The locale is chosen by ?lang=, the language cookie and Accept-Language; a cache must keep them apart. */
export const VARY = 'Accept-Encoding, Accept-Language, Cookie';
