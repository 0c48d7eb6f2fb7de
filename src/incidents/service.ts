import { changePublicIncident, type SnapshotDeps } from '../status-page/snapshot.js';
import {
  insertIncidentUpdate,
  publishIncident,
  setIncidentState,
  updateIncidentContent,
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
