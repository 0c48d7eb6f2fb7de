import type { Queryable } from '../platform/db.js';

export const INCIDENT_STATES = ['investigating', 'contained', 'notifying', 'monitoring', 'resolved'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

export interface IncidentText {
  title: string;
  whatHappened: string;
  whatData: string;
  whatWeDid: string;
  whatYouShouldDo: string;
  howToGetHelp: string;
}

export interface Incident {
  id: number;
  slug: string;
  organisationName: string;
  state: IncidentState;
  defaultLocale: string;
  dataTypes: string[];
  texts: Record<string, IncidentText>;
  helplines: Record<string, string>;
  discoveredAt: Date | null;
  publishedAt: Date | null;
  updatedAt: Date;
}

export interface IncidentUpdate {
  id: number;
  incidentId: number;
  texts: Record<string, { title: string; body: string }>;
  publishedAt: Date;
}

interface IncidentRow {
  id: number;
  slug: string;
  organisation_name: string;
  state: IncidentState;
  default_locale: string;
  data_types: string[];
  texts: Record<string, IncidentText>;
  helplines: Record<string, string>;
  discovered_at: Date | null;
  published_at: Date | null;
  updated_at: Date;
}

function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    slug: row.slug,
    organisationName: row.organisation_name,
    state: row.state,
    defaultLocale: row.default_locale,
    dataTypes: row.data_types,
    texts: row.texts,
    helplines: row.helplines,
    discoveredAt: row.discovered_at,
    publishedAt: row.published_at,
    updatedAt: row.updated_at,
  };
}

export interface NewIncident {
  slug: string;
  organisationName: string;
  state?: IncidentState;
  defaultLocale?: string;
  dataTypes: string[];
  texts: Record<string, IncidentText>;
  helplines?: Record<string, string>;
  discoveredAt?: Date | null;
}

export async function insertIncident(db: Queryable, incident: NewIncident): Promise<Incident> {
  const { rows } = await db.query<IncidentRow>(
    `INSERT INTO incidents (slug, organisation_name, state, default_locale, data_types, texts, helplines, discovered_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [
      incident.slug,
      incident.organisationName,
      incident.state ?? 'investigating',
      incident.defaultLocale ?? 'en',
      incident.dataTypes,
      JSON.stringify(incident.texts),
      JSON.stringify(incident.helplines ?? {}),
      incident.discoveredAt ?? null,
    ],
  );
  return toIncident(rows[0]!);
}

export async function publishIncident(db: Queryable, incidentId: number, at: Date): Promise<void> {
  await db.query(
    `UPDATE incidents SET published_at = COALESCE(published_at, $2), updated_at = $2 WHERE id = $1`,
    [incidentId, at],
  );
}

export async function findIncidentById(db: Queryable, id: number): Promise<Incident | null> {
  const { rows } = await db.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
  return rows[0] ? toIncident(rows[0]) : null;
}

export async function findPublishedIncident(db: Queryable, slug: string): Promise<Incident | null> {
  const { rows } = await db.query<IncidentRow>(
    'SELECT * FROM incidents WHERE slug = $1 AND published_at IS NOT NULL',
    [slug],
  );
  return rows[0] ? toIncident(rows[0]) : null;
}

export async function findIncidentBySlug(db: Queryable, slug: string): Promise<Incident | null> {
  const { rows } = await db.query<IncidentRow>('SELECT * FROM incidents WHERE slug = $1', [slug]);
  return rows[0] ? toIncident(rows[0]) : null;
}

/** Every incident, newest first. */
export async function listIncidents(db: Queryable): Promise<Incident[]> {
  const { rows } = await db.query<IncidentRow>('SELECT * FROM incidents ORDER BY id DESC');
  return rows.map(toIncident);
}

export async function listPublishedIncidents(db: Queryable): Promise<Incident[]> {
  const { rows } = await db.query<IncidentRow>(
    'SELECT * FROM incidents WHERE published_at IS NOT NULL ORDER BY published_at DESC',
  );
  return rows.map(toIncident);
}

export async function insertIncidentUpdate(
  db: Queryable,
  update: { incidentId: number; texts: IncidentUpdate['texts']; publishedAt: Date },
): Promise<IncidentUpdate> {
  const { rows } = await db.query<{
    id: number;
    incident_id: number;
    texts: IncidentUpdate['texts'];
    published_at: Date;
  }>(
    `INSERT INTO incident_updates (incident_id, texts, published_at) VALUES ($1, $2, $3) RETURNING id, incident_id, texts, published_at`,
    [update.incidentId, JSON.stringify(update.texts), update.publishedAt],
  );
  await db.query('UPDATE incidents SET updated_at = $2 WHERE id = $1', [
    update.incidentId,
    update.publishedAt,
  ]);
  const row = rows[0]!;
  return { id: row.id, incidentId: row.incident_id, texts: row.texts, publishedAt: row.published_at };
}

export async function listIncidentUpdates(db: Queryable, incidentId: number): Promise<IncidentUpdate[]> {
  const { rows } = await db.query<{
    id: number;
    incident_id: number;
    texts: IncidentUpdate['texts'];
    published_at: Date;
  }>(
    'SELECT id, incident_id, texts, published_at FROM incident_updates WHERE incident_id = $1 ORDER BY published_at DESC',
    [incidentId],
  );
  return rows.map((row) => ({
    id: row.id,
    incidentId: row.incident_id,
    texts: row.texts,
    publishedAt: row.published_at,
  }));
}

/** What staff edit of an incident: everything on its public page but the state and the updates. */
export interface IncidentContent {
  organisationName: string;
  dataTypes: string[];
  texts: Record<string, IncidentText>;
  helplines: Record<string, string>;
  discoveredAt: Date | null;
}

export async function updateIncidentContent(
  db: Queryable,
  id: number,
  content: IncidentContent,
  at: Date,
): Promise<void> {
  await db.query(
    `UPDATE incidents SET organisation_name = $2, data_types = $3, texts = $4, helplines = $5, discovered_at = $6, updated_at = $7
     WHERE id = $1`,
    [
      id,
      content.organisationName,
      content.dataTypes,
      JSON.stringify(content.texts),
      JSON.stringify(content.helplines),
      content.discoveredAt,
      at,
    ],
  );
}

export async function setIncidentState(db: Queryable, id: number, state: IncidentState, at: Date) {
  // Resolving starts the retention clock; reopening stops it.
  await db.query(
    `UPDATE incidents SET state = $2, updated_at = $3,
       resolved_at = CASE WHEN $2 = 'resolved' THEN COALESCE(resolved_at, $3) END
     WHERE id = $1`,
    [id, state, at],
  );
}

/** The text in the asked locale, else the incident's default, else any. */
export function localizedText<T>(texts: Record<string, T>, locale: string, defaultLocale: string): T | null {
  return localizedEntry(texts, locale, defaultLocale)?.value ?? null;
}

/**
 * The same choice as localizedText, saying which language it fell to, so a page can mark a fallback
 * with its own lang and dir and tell the reader it is only available in that language.
 */
export function localizedEntry<T>(
  texts: Record<string, T>,
  locale: string,
  defaultLocale: string,
): { value: T; locale: string } | null {
  for (const candidate of [locale, defaultLocale, ...Object.keys(texts)]) {
    const value = texts[candidate];
    if (value !== undefined) return { value, locale: candidate };
  }
  return null;
}
