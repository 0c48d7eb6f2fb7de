import { isUniqueViolation, type Queryable } from '../platform/db.js';
import type { Clock } from '../platform/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { idOr404 } from '../platform/ids.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { changePublicIncident, type SnapshotDeps } from '../status-page/snapshot.js';
import {
  findIncidentById,
  insertIncident,
  insertIncidentUpdate,
  publishIncident,
  setIncidentState,
  updateIncidentContent,
  type Incident,
  type IncidentContent,
  type IncidentText,
  type IncidentState,
  type IncidentUpdate,
} from './store.js';

/** An incident's address, the last part of its public URL: lower case, digits and dashes. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

export interface NewIncidentInput {
  /** The address of the public page: /incidents/<slug>. */
  slug: string;
  organisationName: string;
  defaultLocale?: string;
  dataTypes?: string[];
  /** At least the title in the default language; the rest can follow in the editor. */
  texts: Record<string, Partial<IncidentText> & { title: string }>;
  helplines?: Record<string, string>;
  /** When the business learned of the breach (regulator deadlines count from it); now if not given. */
  discoveredAt?: Date | null;
}

const EMPTY_TEXT: Omit<IncidentText, 'title'> = {
  whatHappened: '',
  whatData: '',
  whatWeDid: '',
  whatYouShouldDo: '',
  howToGetHelp: '',
};

/**
 * Creates an incident, not yet public, for the console's form and the API alike. Its address is its
 * public URL, so no two incidents share one: the unique index decides even when two people create
 * the same address at once, and the one who loses hears why (a ConflictError, 409 in the API).
 */
export async function createIncident(
  deps: { db: Queryable; clock: Clock },
  input: NewIncidentInput,
): Promise<Incident> {
  const defaultLocale = input.defaultLocale ?? 'en';
  if (!SLUG_PATTERN.test(input.slug))
    throw new ValidationError('The address may hold only lower-case letters, digits and dashes (2 to 63).');
  if (!(SUPPORTED_LOCALES as readonly string[]).includes(defaultLocale))
    throw new ValidationError(`Candor does not speak "${defaultLocale}" (${SUPPORTED_LOCALES.join(', ')}).`);
  if (!input.texts[defaultLocale]?.title)
    throw new ValidationError(`Give at least the title in the default language (${defaultLocale}).`);
  try {
    return await insertIncident(deps.db, {
      slug: input.slug,
      organisationName: input.organisationName,
      defaultLocale,
      dataTypes: input.dataTypes ?? [],
      texts: Object.fromEntries(
        Object.entries(input.texts).map(([locale, text]) => [locale, { ...EMPTY_TEXT, ...text }]),
      ),
      helplines: input.helplines ?? {},
      discoveredAt: input.discoveredAt ?? deps.clock.now(),
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`The address "${input.slug}" is taken.`);
    throw error;
  }
}

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
