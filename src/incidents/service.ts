import type { Queryable } from '../platform/db.js';
import { NotFoundError } from '../platform/errors.js';
import { idOr404 } from '../platform/ids.js';
import { changePublicIncident, type SnapshotDeps } from '../status-page/snapshot.js';
import {
  findIncidentById,
  insertIncidentUpdate,
  publishIncident,
  setIncidentState,
  updateIncidentContent,
  type Incident,
  type IncidentContent,
  type IncidentState,
  type IncidentUpdate,
} from './store.js';

/**
 * The incident changes the public sees. Each makes its change and publishes the status page snapshot
 * in the same transaction, so no caller (console, API, CLI, demo seed, tests) can leave the public
 * page behind the record.
 */

export async function publishIncidentPage(deps: SnapshotDeps, incidentId: number): Promise<void> {
  await changePublicIncident(deps, incidentId, (tx) => publishIncident(tx, incidentId, deps.clock.now()));
}

export async function postIncidentUpdate(
  deps: SnapshotDeps,
  input: { incidentId: number; texts: IncidentUpdate['texts']; publishedAt?: Date },
): Promise<IncidentUpdate> {
  return changePublicIncident(deps, input.incidentId, (tx) =>
    insertIncidentUpdate(tx, {
      incidentId: input.incidentId,
      texts: input.texts,
      publishedAt: input.publishedAt ?? deps.clock.now(),
    }),
  );
}

export async function editIncident(
  deps: SnapshotDeps,
  incidentId: number,
  content: IncidentContent,
): Promise<void> {
  await changePublicIncident(deps, incidentId, (tx) =>
    updateIncidentContent(tx, incidentId, content, deps.clock.now()),
  );
}

export async function changeIncidentState(
  deps: SnapshotDeps,
  incidentId: number,
  state: IncidentState,
): Promise<void> {
  await changePublicIncident(deps, incidentId, (tx) =>
    setIncidentState(tx, incidentId, state, deps.clock.now()),
  );
}

/** The incident a path names, for the console and the API alike: a 404 when there is none. */
export async function loadIncident(deps: { db: Queryable }, idParam: unknown): Promise<Incident> {
  const incident = await findIncidentById(deps.db, idOr404(idParam, 'incident'));
  if (!incident) throw new NotFoundError('There is no such incident.');
  return incident;
}
