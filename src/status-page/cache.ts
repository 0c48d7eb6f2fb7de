import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';

/**
 * Rendered status pages and feeds, per locale, in Redis: the day an incident is announced everyone
 * arrives at once, and every web process can answer from one rendering. Publishing invalidates.
 * The expiry is only a safety net for a missed invalidation.
 */
export const STATUS_PAGE_CACHE_SECONDS = 300;

/**
 * Each process also keeps what it read for one second, so a surge costs one Redis read per page per
 * second rather than one per request. invalidateStatusPage clears the calling process at once; any
 * other web process shows the change within this second.
 */
export const STATUS_PAGE_MEMORY_MS = 1_000;

export interface CachedPage {
  body: string;
  /** A strong validator, so a browser that has the page gets a 304. */
  etag: string;
  hit: boolean;
}

// Bodies are kept encoded, so a hit writes bytes without encoding the page again.
const memory = new Map<string, { body: string; bytes: Buffer; etag: string; until: number }>();

function etagOf(body: string): string {
  return `"${crypto.createHash('sha1').update(body).digest('base64url')}"`;
}

export type CachedKind = 'page' | 'feed';

type CacheDeps = Pick<Deps, 'redis' | 'config'>;

export function statusPageCacheKey(prefix: string, slug: string, kind: CachedKind, locale: string): string {
  return `${prefix}:status-cache:${slug}:${kind}:${locale}`;
}

/** What this process read within the last second, without asking Redis; undefined if nothing fresh. */
export function peekMemory(key: string): { bytes: Buffer; etag: string } | undefined {
  const local = memory.get(key);
  return local && local.until > Date.now() ? local : undefined;
}

/** The cached text, or renders, stores and returns it. A Redis hiccup costs a render, never an error. */
export async function cached(
  deps: CacheDeps,
  key: string,
  render: () => Promise<string>,
): Promise<CachedPage> {
  const now = Date.now();
  const local = memory.get(key);
  if (local && local.until > now) return { body: local.body, etag: local.etag, hit: true };
  const shared = await deps.redis.getBuffer(key).catch(() => null);
  let body: string;
  let hit = true;
  if (shared) {
    body = shared.toString('utf8');
  } else {
    body = await render();
    hit = false;
    await deps.redis.set(key, body, 'EX', STATUS_PAGE_CACHE_SECONDS).catch(() => undefined);
  }
  const etag = local?.body === body ? local.etag : etagOf(body);
  const bytes = local?.body === body ? local.bytes : Buffer.from(body, 'utf8');
  memory.set(key, { body, bytes, etag, until: now + STATUS_PAGE_MEMORY_MS });
  return { body, etag, hit };
}

/**
 * Drops every cached rendering of an incident's public page and feed, in every locale. Call it after
 * anything the public sees changes: publishing the incident or an update, a state change, new texts.
 */
export async function invalidateStatusPage(
  deps: Pick<Deps, 'redis' | 'config' | 'db'>,
  incident: number | string,
): Promise<void> {
  let slug = typeof incident === 'string' ? incident : null;
  if (slug === null) {
    const { rows } = await deps.db.query<{ slug: string }>('SELECT slug FROM incidents WHERE id = $1', [
      incident,
    ]);
    slug = rows[0]?.slug ?? null;
  }
  if (slug === null) return;
  const keys = SUPPORTED_LOCALES.flatMap((locale) =>
    (['page', 'feed'] as const).map((kind) =>
      statusPageCacheKey(deps.config.queuePrefix, slug, kind, locale),
    ),
  );
  for (const key of keys) memory.delete(key);
  await deps.redis.del(...keys);
}
