import type { Queryable } from '../platform/db.js';
import { ValidationError } from '../platform/errors.js';
import { checkTemplate } from './render.js';

/** The segment value meaning "everyone": a text for all people in the language, whatever their segment. */
export const EVERYONE = '';

/** The segments an incident's people are in, and any a variant was written for, sorted. */
export async function listSegments(db: Queryable, incidentId: number): Promise<string[]> {
  const { rows } = await db.query<{ segment: string }>(
    `SELECT segment FROM people WHERE incident_id = $1 AND segment IS NOT NULL
     UNION SELECT segment FROM notice_templates WHERE incident_id = $1 AND segment <> ''
     ORDER BY 1`,
    [incidentId],
  );
  return rows.map((row) => row.segment);
}

/**
 * Saves a replacement text after checking its placeholders against the default it replaces
 * (`defaultText`, the locale file's text for the same key): an unknown placeholder or a missing
 * link or reference code is refused with a message staff can act on.
 */
export async function saveNoticeOverride(
  db: Queryable,
  override: {
    incidentId: number;
    locale: string;
    segment: string;
    key: string;
    text: string;
    defaultText: string;
    staffId: number | null;
  },
): Promise<void> {
  const { unknown, missing } = checkTemplate(override.text, override.defaultText);
  if (unknown.length > 0 || missing.length > 0) {
    const problems = [
      ...unknown.map((name) => `{{${name}}} is not available in this text`),
      ...missing.map((name) => `{{${name}}} must stay in this text`),
    ];
    throw new ValidationError(problems.join('; '), { text: problems.join('; ') });
  }
  await db.query(
    `INSERT INTO notice_templates (incident_id, locale, segment, key, text, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (incident_id, locale, segment, key) DO UPDATE SET text = EXCLUDED.text, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [override.incidentId, override.locale, override.segment, override.key, override.text, override.staffId],
  );
}

/** Goes back to the default text for one key. */
export async function deleteNoticeOverride(
  db: Queryable,
  override: { incidentId: number; locale: string; segment: string; key: string },
): Promise<void> {
  await db.query(
    'DELETE FROM notice_templates WHERE incident_id = $1 AND locale = $2 AND segment = $3 AND key = $4',
    [override.incidentId, override.locale, override.segment, override.key],
  );
}
