import type { Queryable } from '../platform/db.js';
import { ValidationError } from '../platform/errors.js';
import { checkTemplate } from './render.js';

/** Staff-written texts for one incident and language, keyed like the locale file ("update.intro"). */
export async function loadNoticeOverrides(
  db: Queryable,
  incidentId: number,
  locale: string,
): Promise<Record<string, string>> {
  const { rows } = await db.query<{ key: string; text: string }>(
    'SELECT key, text FROM notice_templates WHERE incident_id = $1 AND locale = $2',
    [incidentId, locale],
  );
  return Object.fromEntries(rows.map((row) => [row.key, row.text]));
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
    `INSERT INTO notice_templates (incident_id, locale, key, text, updated_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (incident_id, locale, key) DO UPDATE SET text = EXCLUDED.text, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [override.incidentId, override.locale, override.key, override.text, override.staffId],
  );
}

/** Goes back to the default text for one key. */
export async function deleteNoticeOverride(
  db: Queryable,
  override: { incidentId: number; locale: string; key: string },
): Promise<void> {
  await db.query('DELETE FROM notice_templates WHERE incident_id = $1 AND locale = $2 AND key = $3', [
    override.incidentId,
    override.locale,
    override.key,
  ]);
}
