import type { Deps } from '../deps.js';
import { withTransaction, type DbClient } from '../platform/db.js';
import {
  findIncidentById,
  findPublishedIncident,
  listIncidentUpdates,
  listPublishedIncidents,
} from '../incidents/store.js';
import type { StatusDocument } from './documents.js';
import { encodeDocuments, renderIncidentDocuments, renderIndexDocuments } from './render.js';
import { lockStatusPublishing, nextSnapshotVersion, saveStatusDocuments } from './store.js';
import { rememberPublished, syncRedisFromPostgres } from './copies.js';

export type SnapshotDeps = Pick<Deps, 'db' | 'redis' | 'config' | 'i18n' | 'logger' | 'clock'>;

/**
 * Renders and stores, inside the caller's transaction, everything the public sees of an incident: its
 * page and Atom feed in every locale, and the index of published incidents. In the same transaction as
 * the change it shows, so the record and the public page never disagree: if rendering fails, the
 * change is not made either, and staff can simply try again.
 */
async function snapshotInTransaction(
  tx: DbClient,
  deps: SnapshotDeps,
  incidentId: number | null,
): Promise<StatusDocument[]> {
  await lockStatusPublishing(tx);
  const context = {
    i18n: deps.i18n,
    publicBaseUrl: deps.config.publicBaseUrl,
    cacheViews: deps.config.env === 'production',
    timeZone: deps.config.sending.defaultTimeZone,
  };
  const incident = incidentId === null ? null : await findIncidentById(tx, incidentId);
  const index = await renderIndexDocuments(context, await listPublishedIncidents(tx));
  const pages =
    incident?.publishedAt != null
      ? await renderIncidentDocuments(context, incident, await listIncidentUpdates(tx, incident.id))
      : [];
  const version = await nextSnapshotVersion(tx);
  const now = deps.clock.now();
  const [indexDocuments, incidentDocuments] = await Promise.all([
    encodeDocuments(index, version, now),
    encodeDocuments(pages, version, now),
  ]);
  await saveStatusDocuments(tx, null, indexDocuments);
  if (incident) await saveStatusDocuments(tx, incident.id, incidentDocuments);
  return [...indexDocuments, ...incidentDocuments];
}

/** After the commit: this process shows the new pages at once; Redis gets them for the other processes. */
async function share(deps: SnapshotDeps, documents: StatusDocument[]): Promise<void> {
  rememberPublished(deps, documents);
  // Redis being away loses nothing: other processes find the publish in PostgreSQL on their next
  // check, and the first of them to reach Redis again copies it there.
  await syncRedisFromPostgres(deps).catch((error: Error) =>
    deps.logger.warn({ err: error.message }, 'status page published without its Redis copy'),
  );
}

/**
 * Makes a change the public sees (publish, edit, state, update) and publishes the status page
 * snapshot that shows it, in one transaction. Every such change goes through here.
 */
export async function changePublicIncident<T>(
  deps: SnapshotDeps,
  incidentId: number,
  change: (tx: DbClient) => Promise<T>,
): Promise<T> {
  const { result, documents } = await withTransaction(deps.db, async (tx) => {
    const result = await change(tx);
    return { result, documents: await snapshotInTransaction(tx, deps, incidentId) };
  });
  await share(deps, documents);
  return result;
}

/**
 * Publishes the status snapshot of an incident (and the index) as the record stands now. For an
 * incident published some other way (an older version of Candor, a restored backup), or with null for
 * just the index.
 */
export async function publishStatusSnapshot(
  deps: SnapshotDeps,
  incidentId: number | null,
): Promise<StatusDocument[]> {
  const documents = await withTransaction(deps.db, (tx) => snapshotInTransaction(tx, deps, incidentId));
  await share(deps, documents);
  return documents;
}

const inFlight = new Map<string, Promise<boolean>>();

/**
 * Publishes the snapshot of a published incident that has none (published before snapshots existed,
 * or restored from a backup), or the index (slug null) on a fresh install. Only ever for a page that
 * was never published: a stale snapshot is not repaired here, every change publishes its own. Returns
 * whether there was something to publish. One at a time per page in this process, so a surge on an
 * upgraded site renders the page once.
 */
export function publishMissingSnapshot(deps: SnapshotDeps, slug: string | null): Promise<boolean> {
  const key = `${deps.config.queuePrefix}|${slug ?? ''}`;
  let running = inFlight.get(key);
  if (!running) {
    running = (async () => {
      if (slug === null) {
        await publishStatusSnapshot(deps, null);
        return true;
      }
      const incident = await findPublishedIncident(deps.db, slug);
      if (!incident) return false;
      await publishStatusSnapshot(deps, incident.id);
      return true;
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, running);
  }
  return running;
}
