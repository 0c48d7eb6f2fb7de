import type { Queryable } from '../../platform/db.js';
import type { IncidentState } from '../../incidents/store.js';

/**
 * Console-side reads of incidents. Writes the public sees are in src/incidents/store.ts, made through
 * the use cases in src/incidents/service.ts, which publish the status page with them.
 */
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

/** Countries of the people on file for an incident, with counts: the jurisdictions whose rules apply. */
export async function countPeopleByCountry(db: Queryable, incidentId: number) {
  const { rows } = await db.query<{ country: string | null; people: number }>(
    `SELECT country, count(*)::int AS people FROM people WHERE incident_id = $1 AND affected GROUP BY country ORDER BY 2 DESC`,
    [incidentId],
  );
  return rows;
}
