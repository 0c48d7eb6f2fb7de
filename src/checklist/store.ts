import type { Queryable } from '../platform/db.js';
import type { ChecklistStatus, ChecklistStep } from './deadlines.js';

export interface ChecklistItem {
  step: ChecklistStep;
  ownerStaffId: number | null;
  ownerName: string | null;
  dueAt: Date | null;
  status: ChecklistStatus;
  note: string | null;
  updatedAt: Date;
}

export async function listChecklist(db: Queryable, incidentId: number): Promise<ChecklistItem[]> {
  const { rows } = await db.query<{
    step: ChecklistStep;
    owner_staff_id: number | null;
    display_name: string | null;
    due_at: Date | null;
    status: ChecklistStatus;
    note: string | null;
    updated_at: Date;
  }>(
    `SELECT c.step, c.owner_staff_id, s.display_name, c.due_at, c.status, c.note, c.updated_at
     FROM checklist_items c LEFT JOIN staff s ON s.id = c.owner_staff_id WHERE c.incident_id = $1`,
    [incidentId],
  );
  return rows.map((row) => ({
    step: row.step,
    ownerStaffId: row.owner_staff_id,
    ownerName: row.display_name,
    dueAt: row.due_at,
    status: row.status,
    note: row.note,
    updatedAt: row.updated_at,
  }));
}

export async function saveChecklistItem(
  db: Queryable,
  item: {
    incidentId: number;
    step: ChecklistStep;
    ownerStaffId: number | null;
    dueAt: Date | null;
    status: ChecklistStatus;
    note: string | null;
  },
  at: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO checklist_items (incident_id, step, owner_staff_id, due_at, status, note, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (incident_id, step) DO UPDATE SET owner_staff_id = EXCLUDED.owner_staff_id,
       due_at = EXCLUDED.due_at, status = EXCLUDED.status, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at`,
    [item.incidentId, item.step, item.ownerStaffId, item.dueAt, item.status, item.note, at],
  );
}
