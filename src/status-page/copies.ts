import type { Deps } from '../deps.js';
import { UnavailableError } from '../platform/errors.js';
import { documentKey, type StatusDocument } from './documents.js';
import { findStatusDocument, latestSnapshotVersion, listStatusDocumentsSince } from './store.js';

/**
 * The copies of the published status pages, nearest first: this process's memory, then Redis, then
 * PostgreSQL (the record). A request is answered from memory without any I/O whenever memory has the
 * page; a miss reads Redis, then PostgreSQL, and keeps what it read. Memory is never dropped for being
 * old, only replaced by a newer publish, so a process that can reach neither Redis nor PostgreSQL keeps
 * answering with the last page it had, for as long as the outage lasts.
 *
 * How other processes' publishes arrive: every STATUS_PAGE_REFRESH_MS, in the background of a request,
 * the process asks Redis and PostgreSQL for the latest publish number (one GET, one indexed max()) and,
 * if it is behind, reads from PostgreSQL only the pages published since. Polling rather than pub/sub or
 * LISTEN/NOTIFY: it needs no extra connection (the composition root builds none for us), it cannot miss
 * a message during a Redis or PostgreSQL blip, and one second is far below the 30 s a CDN may keep the
 * page anyway. The same check repairs Redis when it is behind PostgreSQL (flushed, restarted empty, or
 * down during a publish).
 */

export type CopyDeps = Pick<Deps, 'db' | 'redis' | 'config' | 'logger'>;

/** Where an answer came from, shown in the X-Candor-Cache header for operators. */
export type CopySource = 'memory' | 'redis' | 'postgres';

interface Entry {
  document: StatusDocument;
  /** The latest publish this entry is known to reflect: older than the latest publish means "check". */
  asOf: number;
}

interface Copies {
  entries: Map<string, Entry>;
  nextCheckAt: number;
  refreshing: Promise<void> | null;
  refreshes: number;
  lastProblem: string | null;
}

/**
 * One set of copies per composition root. Keyed by its Redis client, the one object every part of a
 * root (web routes and the publish use case) shares, so tests that build two roots get two processes'
 * worth of memory.
 */
const copiesByRoot = new WeakMap<object, Copies>();

function copiesOf(deps: Pick<Deps, 'redis'>): Copies {
  let copies = copiesByRoot.get(deps.redis);
  if (!copies) {
    copies = { entries: new Map(), nextCheckAt: 0, refreshing: null, refreshes: 0, lastProblem: null };
    copiesByRoot.set(deps.redis, copies);
  }
  return copies;
}

function versionKey(deps: Pick<Deps, 'config'>): string {
  return `${deps.config.queuePrefix}:status:version`;
}

function redisDocumentKey(deps: Pick<Deps, 'config'>, path: string, locale: string): string {
  return `${deps.config.queuePrefix}:status:doc:${locale}:${path}`;
}

// Only ever moves forward, so a slow writer with an older page cannot undo a newer one.
const WRITE_DOCUMENT_IF_NEWER = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if tonumber(ARGV[1]) > current then
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'meta', ARGV[2], 'body', ARGV[3], 'gzip', ARGV[4], 'br', ARGV[5])
  return 1
end
return 0`;

const RAISE_VERSION = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0`;

interface Meta {
  path: string;
  locale: string;
  status: number;
  location: string | null;
  contentType: string;
  etag: string;
  publishedAt: string;
}

function fromRedis(hash: Record<string, Buffer>): StatusDocument | null {
  const { version, meta, body, gzip, br } = hash;
  if (!version || !meta || !body || !gzip || !br) return null;
  const parsed = JSON.parse(meta.toString('utf8')) as Meta;
  return {
    ...parsed,
    version: Number(version.toString()),
    publishedAt: new Date(parsed.publishedAt),
    body,
    gzip,
    br,
  };
}

/**
 * Writes pages into Redis, each only over an older one. `through` raises Redis's publish number to say
 * it holds every page up to it; only a full sync may do that, never the write-back of a single page.
 */
async function writeToRedis(
  deps: CopyDeps,
  documents: StatusDocument[],
  through: number | null,
): Promise<void> {
  const pipeline = deps.redis.pipeline();
  for (const document of documents) {
    const meta: Meta = {
      path: document.path,
      locale: document.locale,
      status: document.status,
      location: document.location,
      contentType: document.contentType,
      etag: document.etag,
      publishedAt: document.publishedAt.toISOString(),
    };
    pipeline.eval(
      WRITE_DOCUMENT_IF_NEWER,
      1,
      redisDocumentKey(deps, document.path, document.locale),
      document.version,
      JSON.stringify(meta),
      document.body,
      document.gzip,
      document.br,
    );
  }
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error)?.[0];
  if (failed) throw failed;
  // Pages before the number: a reader that sees the number finds every page it covers.
  if (through !== null) await deps.redis.eval(RAISE_VERSION, 1, versionKey(deps), through);
}

/**
 * Copies into Redis every page published since the version Redis says it has. Used after a publish and
 * whenever Redis is found behind PostgreSQL.
 */
export async function syncRedisFromPostgres(deps: CopyDeps): Promise<void> {
  const redisVersion = Number((await deps.redis.get(versionKey(deps))) ?? 0);
  const missing = await listStatusDocumentsSince(deps.db, redisVersion);
  if (missing.length === 0) return;
  await writeToRedis(deps, missing, Math.max(...missing.map((document) => document.version)));
}

/** The publishing process shows its new pages at once, without waiting for its next check. */
export function rememberPublished(deps: Pick<Deps, 'redis'>, documents: StatusDocument[]): void {
  const copies = copiesOf(deps);
  for (const document of documents) remember(copies, document, document.version);
}

function remember(copies: Copies, document: StatusDocument, asOf: number): StatusDocument {
  const key = documentKey(document.path, document.locale);
  const current = copies.entries.get(key);
  if (current && current.document.version > document.version) return current.document;
  copies.entries.set(key, { document, asOf: Math.max(asOf, current?.asOf ?? 0) });
  return document;
}

/** The page from memory, without I/O; starts a background check for newer publishes when one is due. */
export function peekDocument(deps: CopyDeps, path: string, locale: string): StatusDocument | undefined {
  const copies = copiesOf(deps);
  checkIfDue(deps, copies);
  return copies.entries.get(documentKey(path, locale))?.document;
}

/**
 * The page from the nearest copy that has it: memory, Redis, PostgreSQL. Null when it was never
 * published; UnavailableError only when it is in no copy this process can reach.
 */
export async function findDocument(
  deps: CopyDeps,
  path: string,
  locale: string,
): Promise<{ document: StatusDocument; source: CopySource } | null> {
  const local = peekDocument(deps, path, locale);
  if (local) return { document: local, source: 'memory' };
  const copies = copiesOf(deps);
  let shared: { document: StatusDocument | null; asOf: number } | null = null;
  try {
    // In this order: pages are written before the number, so the page is at least as new as the number.
    const results = await deps.redis
      .pipeline()
      .get(versionKey(deps))
      .hgetallBuffer(redisDocumentKey(deps, path, locale))
      .exec();
    const [[versionError, version] = [], [hashError, hash] = []] = results ?? [];
    if (!versionError && !hashError) {
      shared = {
        asOf: Number(version ?? 0),
        document: fromRedis((hash ?? {}) as Record<string, Buffer>),
      };
    }
  } catch {
    // Redis is away: PostgreSQL has the record.
  }
  if (shared?.document) return { document: remember(copies, shared.document, shared.asOf), source: 'redis' };
  try {
    const found = await findStatusDocument(deps.db, path, locale);
    if (!found) return null;
    // A Redis that answered without the page has lost it (flushed, restarted): put it back.
    if (shared) void writeToRedis(deps, [found.document], null).catch(() => undefined);
    return { document: remember(copies, found.document, found.asOf), source: 'postgres' };
  } catch (error) {
    throw new UnavailableError(
      `The status page is in no copy this process can reach (${(error as Error).message}).`,
    );
  }
}

function checkIfDue(deps: CopyDeps, copies: Copies): void {
  const now = Date.now();
  if (copies.refreshing || now < copies.nextCheckAt) return;
  copies.nextCheckAt = now + deps.config.statusPage.refreshMs;
  copies.refreshing = refresh(deps, copies)
    .catch((error: unknown) => {
      copies.lastProblem = (error as Error).message;
      deps.logger.warn({ err: (error as Error).message }, 'status page copies could not be refreshed');
    })
    .finally(() => {
      copies.refreshes++;
      copies.refreshing = null;
    });
}

async function refresh(deps: CopyDeps, copies: Copies): Promise<void> {
  const problems: string[] = [];
  const [redisVersion, postgresVersion] = await Promise.all([
    deps.redis
      .get(versionKey(deps))
      .then((value) => Number(value ?? 0))
      .catch((error: Error) => {
        problems.push(`redis: ${error.message}`);
        return null;
      }),
    latestSnapshotVersion(deps.db).catch((error: Error) => {
      problems.push(`postgres: ${error.message}`);
      return null;
    }),
  ]);
  if (redisVersion !== null && postgresVersion !== null && redisVersion < postgresVersion) {
    await syncRedisFromPostgres(deps).catch((error: Error) => problems.push(`redis sync: ${error.message}`));
  }
  const latest = Math.max(redisVersion ?? 0, postgresVersion ?? 0);
  const behind = [...copies.entries.values()].filter((entry) => entry.asOf < latest);
  if (behind.length > 0) {
    if (postgresVersion !== null) {
      const since = Math.min(...behind.map((entry) => entry.asOf));
      const newer = await listStatusDocumentsSince(deps.db, since);
      for (const document of newer) {
        if (copies.entries.has(documentKey(document.path, document.locale)))
          remember(copies, document, postgresVersion);
      }
      for (const entry of behind) entry.asOf = Math.max(entry.asOf, postgresVersion);
    } else if (redisVersion !== null) {
      const pipeline = deps.redis.pipeline();
      for (const entry of behind)
        pipeline.hgetallBuffer(redisDocumentKey(deps, entry.document.path, entry.document.locale));
      const results = (await pipeline.exec()) ?? [];
      behind.forEach((entry, index) => {
        const [error, hash] = results[index] ?? [new Error('no reply')];
        const document = error ? null : fromRedis((hash ?? {}) as Record<string, Buffer>);
        if (document) remember(copies, document, redisVersion);
      });
    }
  }
  copies.lastProblem = problems.length > 0 ? problems.join('; ') : null;
}

/** For readiness and tests: how many pages this process holds, and how its last check went. */
export function statusCopiesState(deps: Pick<Deps, 'redis'>): {
  documents: number;
  refreshes: number;
  lastProblem: string | null;
} {
  const copies = copiesOf(deps);
  return { documents: copies.entries.size, refreshes: copies.refreshes, lastProblem: copies.lastProblem };
}
