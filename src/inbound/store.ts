import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';

/** SQL of conversations: opt-outs, replies filed in the support queue, staff answers. */

/** Whom a reply came from, found by a keyed hash: the newest person holding that number or address. */
export interface ReplyingPerson {
  id: number;
  incidentId: number;
  locale: string;
}

export async function findPersonByHash(
  db: Queryable,
  column: 'phone_hash' | 'email_hash',
  hash: Buffer,
): Promise<ReplyingPerson | null> {
  // A number can be on the lists of several incidents: the newest is the one they are hearing about.
  const { rows } = await db.query<{ id: number; incident_id: number; locale: string }>(
    `SELECT id, incident_id, locale FROM people WHERE ${column} = $1 ORDER BY incident_id DESC, id DESC LIMIT 1`,
    [hash],
  );
  const row = rows[0];
  return row ? { id: row.id, incidentId: row.incident_id, locale: row.locale } : null;
}

/** The person a campaign message went to (a reply to its Reply-To address names the message). */
export async function findPersonByMessage(db: Queryable, messageId: number): Promise<ReplyingPerson | null> {
  const { rows } = await db.query<{ id: number; incident_id: number; locale: string }>(
    `SELECT p.id, p.incident_id, p.locale FROM messages m JOIN people p ON p.id = m.person_id WHERE m.id = $1`,
    [messageId],
  );
  const row = rows[0];
  return row ? { id: row.id, incidentId: row.incident_id, locale: row.locale } : null;
}

export async function recordSmsOptOut(db: Queryable, phoneHash: Buffer, keyword: string, at: Date) {
  // A second STOP keeps the first time: that is when they asked.
  await db.query(
    `INSERT INTO sms_opt_outs (phone_hash, keyword, opted_out_at) VALUES ($1, $2, $3)
     ON CONFLICT (phone_hash) DO NOTHING`,
    [phoneHash, keyword, at],
  );
}

export async function removeSmsOptOut(db: Queryable, phoneHash: Buffer): Promise<void> {
  await db.query('DELETE FROM sms_opt_outs WHERE phone_hash = $1', [phoneHash]);
}

export async function smsOptOutOf(
  db: Queryable,
  phoneHash: Buffer,
): Promise<{ keyword: string; optedOutAt: Date } | null> {
  const { rows } = await db.query<{ keyword: string; opted_out_at: Date }>(
    'SELECT keyword, opted_out_at FROM sms_opt_outs WHERE phone_hash = $1',
    [phoneHash],
  );
  return rows[0] ? { keyword: rows[0].keyword, optedOutAt: rows[0].opted_out_at } : null;
}

export type InboundReply =
  | { kind: 'sms_reply'; phone: string }
  | { kind: 'email_reply'; email: string; subject: string | null; attachmentsDropped: number };

/**
 * Files a reply in the support queue, sealed. A provider's retry of the same reply (same `ref`)
 * files nothing: the id of the request already filed comes back instead.
 */
export async function fileInboundReply(
  db: Queryable,
  vault: Vault,
  reply: InboundReply & {
    person: ReplyingPerson | null;
    locale: string;
    text: string;
    ref: Buffer | null;
    at: Date;
  },
): Promise<{ id: number; filed: boolean }> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO support_requests
       (incident_id, person_id, kind, phone_enc, reply_email_enc, subject_enc, message_enc, locale,
        attachments_dropped, inbound_ref, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
     ON CONFLICT (inbound_ref) WHERE inbound_ref IS NOT NULL DO NOTHING RETURNING id`,
    [
      reply.person?.incidentId ?? null,
      reply.person?.id ?? null,
      reply.kind,
      reply.kind === 'sms_reply' ? vault.seal(reply.phone) : null,
      reply.kind === 'email_reply' ? vault.seal(reply.email) : null,
      reply.kind === 'email_reply' && reply.subject ? vault.seal(reply.subject) : null,
      vault.seal(reply.text),
      reply.locale,
      reply.kind === 'email_reply' ? reply.attachmentsDropped : 0,
      reply.ref,
      reply.at,
    ],
  );
  if (rows[0]) return { id: rows[0].id, filed: true };
  const { rows: existing } = await db.query<{ id: number }>(
    'SELECT id FROM support_requests WHERE inbound_ref = $1',
    [reply.ref],
  );
  return { id: existing[0]!.id, filed: false };
}

export type SupportReplyStatus = 'queued' | 'sending' | 'sent' | 'failed';

export interface SupportReply {
  id: number;
  supportRequestId: number;
  staffName: string | null;
  channel: 'email' | 'sms';
  locale: string;
  body: string;
  status: SupportReplyStatus;
  error: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export async function insertSupportReply(
  db: Queryable,
  vault: Vault,
  reply: {
    supportRequestId: number;
    staffId: number;
    channel: 'email' | 'sms';
    locale: string;
    body: string;
    at: Date;
  },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO support_replies (support_request_id, staff_id, channel, locale, body_enc, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [reply.supportRequestId, reply.staffId, reply.channel, reply.locale, vault.seal(reply.body), reply.at],
  );
  await db.query(
    `UPDATE support_requests SET updated_at = $2, status = CASE WHEN status = 'open' THEN 'assigned' ELSE status END,
       assigned_to = COALESCE(assigned_to, $3) WHERE id = $1`,
    [reply.supportRequestId, reply.at, reply.staffId],
  );
  return rows[0]!.id;
}

export async function listSupportReplies(
  db: Queryable,
  vault: Vault,
  supportRequestId: number,
): Promise<SupportReply[]> {
  const { rows } = await db.query<{
    id: number;
    support_request_id: number;
    display_name: string | null;
    channel: 'email' | 'sms';
    locale: string;
    body_enc: string;
    status: SupportReplyStatus;
    error: string | null;
    created_at: Date;
    sent_at: Date | null;
  }>(
    `SELECT r.*, s.display_name FROM support_replies r LEFT JOIN staff s ON s.id = r.staff_id
     WHERE r.support_request_id = $1 ORDER BY r.id`,
    [supportRequestId],
  );
  return rows.map((row) => ({
    id: row.id,
    supportRequestId: row.support_request_id,
    staffName: row.display_name,
    channel: row.channel,
    locale: row.locale,
    body: vault.open(row.body_enc),
    status: row.status,
    error: row.error,
    createdAt: row.created_at,
    sentAt: row.sent_at,
  }));
}

/** A claimed answer with what sending it needs, still sealed. */
export interface ClaimedReply {
  id: number;
  supportRequestId: number;
  incidentId: number | null;
  channel: 'email' | 'sms';
  locale: string;
  bodyEnc: string;
  phoneEnc: string | null;
  replyEmailEnc: string | null;
  subjectEnc: string | null;
}

/**
 * The claim gate, as for campaign messages: only a queued answer, or one left `sending` by a worker
 * that died, may go; a replayed job finds it claimed or sent and does nothing.
 */
export async function claimSupportReply(
  db: Queryable,
  replyId: number,
  at: Date,
  staleBefore: Date,
): Promise<ClaimedReply | null> {
  const { rows } = await db.query<{
    id: number;
    support_request_id: number;
    incident_id: number | null;
    channel: 'email' | 'sms';
    locale: string;
    body_enc: string;
    phone_enc: string | null;
    reply_email_enc: string | null;
    subject_enc: string | null;
  }>(
    `UPDATE support_replies r SET status = 'sending', sending_at = $2
     FROM support_requests q
     WHERE r.id = $1 AND q.id = r.support_request_id
       AND (r.status = 'queued' OR (r.status = 'sending' AND r.sending_at < $3))
     RETURNING r.id, r.support_request_id, q.incident_id, r.channel, r.locale, r.body_enc,
       q.phone_enc, q.reply_email_enc, q.subject_enc`,
    [replyId, at, staleBefore],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    supportRequestId: row.support_request_id,
    incidentId: row.incident_id,
    channel: row.channel,
    locale: row.locale,
    bodyEnc: row.body_enc,
    phoneEnc: row.phone_enc,
    replyEmailEnc: row.reply_email_enc,
    subjectEnc: row.subject_enc,
  };
}

export async function finishSupportReply(
  db: Queryable,
  replyId: number,
  outcome:
    | { status: 'sent'; provider: string; providerMessageId: string; at: Date }
    | { status: 'failed'; error: string; at: Date }
    | { status: 'queued' },
): Promise<void> {
  if (outcome.status === 'sent')
    await db.query(
      `UPDATE support_replies SET status = 'sent', provider = $2, provider_message_id = $3, sent_at = $4
       WHERE id = $1 AND status = 'sending'`,
      [replyId, outcome.provider, outcome.providerMessageId, outcome.at],
    );
  else if (outcome.status === 'failed')
    await db.query(
      `UPDATE support_replies SET status = 'failed', error = $2 WHERE id = $1 AND status = 'sending'`,
      [replyId, outcome.error.slice(0, 500)],
    );
  else
    await db.query(`UPDATE support_replies SET status = 'queued' WHERE id = $1 AND status = 'sending'`, [
      replyId,
    ]);
}
