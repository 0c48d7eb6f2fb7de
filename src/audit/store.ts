import type { Queryable } from '../platform/db.js';

/** Who did something: a staff member at the console, or a staff member's API key. */
export interface Actor {
  staffId: number | null;
  apiKeyId: number | null;
}

export interface AuditEntry {
  action: string;
  subjectType?: string | null;
  subjectId?: number | null;
  outcome?: 'ok' | 'refused';
  /** Ids, counts and states only: never a contact detail, a name or a secret. */
  details?: Record<string, string | number | boolean | null>;
}

export async function recordAudit(db: Queryable, actor: Actor, entry: AuditEntry, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (at, staff_id, api_key_id, action, subject_type, subject_id, outcome, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      at,
      actor.staffId,
      actor.apiKeyId,
      entry.action,
      entry.subjectType ?? null,
      entry.subjectId ?? null,
      entry.outcome ?? 'ok',
      JSON.stringify(entry.details ?? {}),
    ],
  );
}

export interface AuditRecord {
  id: number;
  at: Date;
  staffId: number | null;
  staffName: string | null;
  apiKeyId: number | null;
  action: string;
  subjectType: string | null;
  subjectId: number | null;
  outcome: string;
  details: Record<string, unknown>;
}

export async function listAudit(
  db: Queryable,
  filter: { limit: number; beforeId?: number | null; action?: string | null },
): Promise<AuditRecord[]> {
  const { rows } = await db.query<{
    id: number;
    at: Date;
    staff_id: number | null;
    display_name: string | null;
    api_key_id: number | null;
    action: string;
    subject_type: string | null;
    subject_id: number | null;
    outcome: string;
    details: Record<string, unknown>;
  }>(
    `SELECT a.*, s.display_name FROM audit_log a LEFT JOIN staff s ON s.id = a.staff_id
     WHERE ($2::bigint IS NULL OR a.id < $2) AND ($3::text IS NULL OR a.action = $3)
     ORDER BY a.id DESC LIMIT $1`,
    [filter.limit, filter.beforeId ?? null, filter.action ?? null],
  );
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    staffId: row.staff_id,
    staffName: row.display_name,
    apiKeyId: row.api_key_id,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    outcome: row.outcome,
    details: row.details,
  }));
}
