import type { Queryable } from '../../platform/db.js';
import type { Vault } from '../../platform/vault.js';
import { ConflictError } from '../../platform/errors.js';

/** The staff side of the support queue (the portal files requests: src/support/store.ts). */
export const SUPPORT_STATUSES = ['open', 'assigned', 'closed'] as const;
export type SupportStatus = (typeof SUPPORT_STATUSES)[number];

export interface SupportRequest {
  id: number;
  /** null: a text or an email from a number or address we hold for nobody. */
  incidentId: number | null;
  incidentName: string | null;
  personId: number | null;
  reference: string | null;
  kind: SupportRequestKind;
  phone: string | null;
  preferredTime: string | null;
  /** The person's own zone, when the request came from a signed-in person who has one. */
  personTimeZone: string | null;
  locale: string;
  message: string | null;
  name: string | null;
  replyEmail: string | null;
  /** email_reply: its subject line. */
  subject: string | null;
  attachmentsDropped: number;
  status: SupportStatus;
  assignedTo: number | null;
  assignedName: string | null;
  createdAt: Date;
  closedAt: Date | null;
}

/** callback and message come from the portal; sms_reply and email_reply are people answering a notice. */
export type SupportRequestKind = 'callback' | 'message' | 'sms_reply' | 'email_reply';

interface Row {
  id: number;
  incident_id: number | null;
  organisation_name: string | null;
  person_id: number | null;
  reference_enc: string | null;
  kind: SupportRequestKind;
  phone_enc: string | null;
  preferred_time: string | null;
  time_zone: string | null;
  locale: string;
  message_enc: string | null;
  name_enc: string | null;
  reply_email_enc: string | null;
  subject_enc: string | null;
  attachments_dropped: number;
  status: SupportStatus;
  assigned_to: number | null;
  display_name: string | null;
  created_at: Date;
  closed_at: Date | null;
}

const SELECT = `SELECT r.*, i.organisation_name, p.reference_enc, p.time_zone, s.display_name
  FROM support_requests r LEFT JOIN incidents i ON i.id = r.incident_id
  LEFT JOIN people p ON p.id = r.person_id LEFT JOIN staff s ON s.id = r.assigned_to`;

function toRequest(vault: Vault, row: Row): SupportRequest {
  const open = (value: string | null) => (value ? vault.open(value) : null);
  return {
    id: row.id,
    incidentId: row.incident_id,
    incidentName: row.organisation_name,
    personId: row.person_id,
    reference: open(row.reference_enc),
    kind: row.kind,
    phone: open(row.phone_enc),
    preferredTime: row.preferred_time,
    personTimeZone: row.time_zone,
    locale: row.locale,
    message: open(row.message_enc),
    name: open(row.name_enc),
    replyEmail: open(row.reply_email_enc),
    subject: open(row.subject_enc),
    attachmentsDropped: row.attachments_dropped,
    status: row.status,
    assignedTo: row.assigned_to,
    assignedName: row.display_name,
    createdAt: row.created_at,
    closedAt: row.closed_at,
  };
}

/** Oldest first: whoever asked first is helped first. */
export async function listSupportRequests(
  db: Queryable,
  vault: Vault,
  filter: { statuses: readonly SupportStatus[]; limit: number },
): Promise<SupportRequest[]> {
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE r.status = ANY($1::text[]) ORDER BY r.created_at, r.id LIMIT $2`,
    [filter.statuses, filter.limit],
  );
  return rows.map((row) => toRequest(vault, row));
}

export async function findSupportRequest(
  db: Queryable,
  vault: Vault,
  id: number,
): Promise<SupportRequest | null> {
  const { rows } = await db.query<Row>(`${SELECT} WHERE r.id = $1`, [id]);
  return rows[0] ? toRequest(vault, rows[0]) : null;
}

export async function assignSupportRequest(
  db: Queryable,
  id: number,
  staffId: number,
  at: Date,
): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE support_requests SET status = 'assigned', assigned_to = $2, updated_at = $3 WHERE id = $1 AND status <> 'closed'`,
    [id, staffId, at],
  );
  if (rowCount !== 1)
    throw new ConflictError('This request is closed. Reopen it by asking the person to write again.');
}

export async function closeSupportRequest(db: Queryable, id: number, at: Date): Promise<void> {
  await db.query(
    `UPDATE support_requests SET status = 'closed', closed_at = COALESCE(closed_at, $2), updated_at = $2 WHERE id = $1`,
    [id, at],
  );
}

export interface SupportNote {
  id: number;
  staffName: string | null;
  note: string;
  createdAt: Date;
}

export async function addSupportNote(
  db: Queryable,
  vault: Vault,
  note: { requestId: number; staffId: number; text: string; at: Date },
): Promise<void> {
  await db.query(
    'INSERT INTO support_notes (support_request_id, staff_id, note_enc, created_at) VALUES ($1, $2, $3, $4)',
    [note.requestId, note.staffId, vault.seal(note.text), note.at],
  );
  await db.query('UPDATE support_requests SET updated_at = $2 WHERE id = $1', [note.requestId, note.at]);
}

export async function listSupportNotes(
  db: Queryable,
  vault: Vault,
  requestId: number,
): Promise<SupportNote[]> {
  const { rows } = await db.query<{
    id: number;
    display_name: string | null;
    note_enc: string;
    created_at: Date;
  }>(
    `SELECT n.id, s.display_name, n.note_enc, n.created_at FROM support_notes n LEFT JOIN staff s ON s.id = n.staff_id
     WHERE n.support_request_id = $1 ORDER BY n.id`,
    [requestId],
  );
  return rows.map((row) => ({
    id: row.id,
    staffName: row.display_name,
    note: vault.open(row.note_enc),
    createdAt: row.created_at,
  }));
}
