import type { Deps } from '../deps.js';
import { findPublishedIncident, type Incident } from '../incidents/store.js';
import { NotFoundError } from '../platform/errors.js';

/** The incident a public page is about; an unpublished one does not exist as far as the public knows. */
export async function publishedIncidentOr404(deps: Pick<Deps, 'db'>, slug: unknown): Promise<Incident> {
  const incident = typeof slug === 'string' ? await findPublishedIncident(deps.db, slug) : null;
  if (!incident) throw new NotFoundError('no such incident');
  return incident;
}
