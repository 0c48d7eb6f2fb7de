import type { Queryable } from '../../platform/db.js';
import type { IncidentState, IncidentText } from '../../incidents/store.js';

/** Console-side reads and writes of incidents; the public side reads through src/incidents/store.ts. */
export interface IncidentSummary {
  id: number;
  slug: string;
  organisationName: string;
  state: IncidentState;
  title: string | null;
  published: boolean;
  people: number;
  campaigns: number;
  updatedAt: Date;
}

export async function listIncidentSummaries(db: Queryable, locale: string): Promise<IncidentSummary[]> {
  const { rows } = await db.query<{
    id: number;
    slug: string;
    organisation_name: string;
    state: IncidentState;
    title: string | null;
    published: boolean;
    people: number;
    campaigns: number;
    updated_at: Date;
  }>(
    `SELECT i.id, i.slug, i.organisation_name, i.state, i.published_at IS NOT NULL AS published, i.updated_at,
            COALESCE(i.texts -> $1 ->> 'title', i.texts -> i.default_locale ->> 'title') AS title,
            (SELECT count(*)::int FROM people p WHERE p.incident_id = i.id) AS people,
            (SELECT count(*)::int FROM campaigns c WHERE c.incident_id = i.id) AS campaigns
     FROM incidents i ORDER BY i.updated_at DESC`,
    [locale],
  );
  return rows.map((row) => ({
    id: row.id,
    slug: row.slug,
    organisationName: row.organisation_name,
    state: row.state,
    title: row.title,
    published: row.published,
    people: row.people,
    campaigns: row.campaigns,
    updatedAt: row.updated_at,
  }));
}

export async function updateIncidentContent(
  db: Queryable,
  id: number,
  content: {
    organisationName: string;
    dataTypes: string[];
    texts: Record<string, IncidentText>;
    helplines: Record<string, string>;
    discoveredAt: Date | null;
  },
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

/** Countries of the people on file for an incident, with counts: the jurisdictions whose rules apply. */
export async function countPeopleByCountry(db: Queryable, incidentId: number) {
  const { rows } = await db.query<{ country: string | null; people: number }>(
    `SELECT country, count(*)::int AS people FROM people WHERE incident_id = $1 AND affected GROUP BY country ORDER BY 2 DESC`,
    [incidentId],
  );
  return rows;
}
