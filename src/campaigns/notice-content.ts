import type { Queryable } from '../platform/db.js';
import {
  findIncidentById,
  listIncidentUpdates,
  type Incident,
  type IncidentUpdate,
} from '../incidents/store.js';
import { EVERYONE } from '../notices/templates.js';

/** What every notice of an incident shares: the incident, its updates, and staff's wording per language. */
export interface NoticeContent {
  incident: Incident;
  updates: IncidentUpdate[];
  /** Staff's texts by language, then by segment ('' for everyone), then by key. */
  textsByLocale: Record<string, Record<string, Record<string, string>>>;
}

export async function loadNoticeContent(db: Queryable, incidentId: number): Promise<NoticeContent | null> {
  const incident = await findIncidentById(db, incidentId);
  if (!incident) return null;
  const updates = await listIncidentUpdates(db, incidentId);
  const { rows } = await db.query<{ locale: string; segment: string; key: string; text: string }>(
    'SELECT locale, segment, key, text FROM notice_templates WHERE incident_id = $1',
    [incidentId],
  );
  const textsByLocale: NoticeContent['textsByLocale'] = {};
  for (const row of rows) ((textsByLocale[row.locale] ??= {})[row.segment] ??= {})[row.key] = row.text;
  return { incident, updates, textsByLocale };
}

/** The texts one person gets: their segment's own where there is one, the texts for everyone otherwise. */
export function overridesFor(
  content: NoticeContent,
  locale: string,
  segment: string | null,
): Record<string, string> {
  const bySegment = content.textsByLocale[locale] ?? {};
  return { ...bySegment[EVERYONE], ...(segment ? bySegment[segment] : {}) };
}

/**
 * SQL for a token that changes whenever anything loadNoticeContent reads changes, given the incident
 * as `alias`: the incident row's xmin (every UPDATE writes a new row version, publishing an update
 * bumps the incident too), and the count and sum of the xmins of its template overrides (an edit or
 * an insert changes the sum, a delete the count). Independent of clocks, so a frozen test clock or
 * two edits in one millisecond still show.
 */
export function noticeContentVersionSql(alias: string): string {
  return `${alias}.xmin::text || '.' || (SELECT count(*) || '.' || COALESCE(sum(nt.xmin::text::bigint), 0)
    FROM notice_templates nt WHERE nt.incident_id = ${alias}.id)`;
}

export interface NoticeContentCache {
  /**
   * The incident's content as of `version` (read with noticeContentVersionSql in the same statement
   * that claimed the message) or newer. Loads it once per version however many sends ask at once.
   */
  get(incidentId: number, version: string): Promise<NoticeContent | null>;
  /** Reads it again, for a send that needs something the cached copy lacks. */
  reload(incidentId: number, version: string): Promise<NoticeContent | null>;
}

/**
 * A send worker's copy of each incident's content, so a campaign reads the incident once rather than
 * once per person. Never stale: every send brings the current version from PostgreSQL with its claim,
 * and a different version reads the content again. Bounded, least recently used first out.
 */
export function createNoticeContentCache(db: Queryable, maxIncidents = 32): NoticeContentCache {
  const entries = new Map<number, { version: string; content: Promise<NoticeContent | null> }>();

  function load(incidentId: number, version: string) {
    const content = loadNoticeContent(db, incidentId);
    entries.delete(incidentId);
    entries.set(incidentId, { version, content });
    // A failed read is not remembered: the next send reads again.
    content.catch(() => {
      if (entries.get(incidentId)?.content === content) entries.delete(incidentId);
    });
    if (entries.size > maxIncidents) entries.delete(entries.keys().next().value!);
    return content;
  }

  return {
    get(incidentId, version) {
      const entry = entries.get(incidentId);
      if (entry?.version !== version) return load(incidentId, version);
      entries.delete(incidentId);
      entries.set(incidentId, entry);
      return entry.content;
    },
    reload: load,
  };
}
