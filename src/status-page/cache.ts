import type { Deps } from '../deps.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';

/**
 * Rendered status pages and feeds, per locale, in Redis: the day an incident is announced everyone
 * arrives at once, and every web process can answer from one rendering. Publishing invalidates.
 * The expiry is only a safety net for a missed invalidation.
 */
export const STATUS_PAGE_CACHE_SECONDS = 300;

export type CachedKind = 'page' | 'feed';

type CacheDeps = Pick<Deps, 'redis' | 'config'>;

export function statusPageCacheKey(prefix: string, slug: string, kind: CachedKind, locale: string): string {
  return `${prefix}:status-cache:${slug}:${kind}:${locale}`;
}

/** The cached text, or renders, stores and returns it. A Redis hiccup costs a render, never an error. */
export async function cached(
  deps: CacheDeps,
  key: string,
  render: () => Promise<string>,
): Promise<{ body: string; hit: boolean }> {
  const hit = await deps.redis.getBuffer(key).catch(() => null);
  if (hit) return { body: hit.toString('utf8'), hit: true };
  const body = await render();
  await deps.redis.set(key, body, 'EX', STATUS_PAGE_CACHE_SECONDS).catch(() => undefined);
  return { body, hit: false };
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
  await deps.redis.del(...keys);
}
