import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { ProviderEvent } from '../channels/channel.js';
import type { Channel } from '../channels/kinds.js';
import { isFailure, statusAfterReceipt, type MessageStatus } from './status.js';

export interface StatusChange {
  messageId: number;
  from: MessageStatus;
  to: MessageStatus;
}

const TIMESTAMP_COLUMN: Partial<Record<MessageStatus, string>> = {
  sent: 'sent_at',
  delivered: 'delivered_at',
  answered: 'delivered_at',
  bounced: 'failed_at',
  failed: 'failed_at',
  undelivered: 'failed_at',
  no_answer: 'failed_at',
  busy: 'failed_at',
};

/**
 * Moves a message forward to `incoming` if that is forward (see statusAfterReceipt). Optimistic: the
 * update only lands if nobody changed the status since we read it; on a race we read again.
 */
export async function advanceMessageStatus(
  db: Queryable,
  messageId: number,
  incoming: MessageStatus,
  reason: string | null,
  at: Date,
): Promise<StatusChange | null> {
  for (;;) {
    const { rows } = await db.query<{ status: MessageStatus }>('SELECT status FROM messages WHERE id = $1', [
      messageId,
    ]);
    const current = rows[0]?.status;
    if (!current) return null;
    const next = statusAfterReceipt(current, incoming);
    if (!next) return null;
    const stamp = TIMESTAMP_COLUMN[next];
    const { rowCount } = await db.query(
      `UPDATE messages SET status = $3, status_reason = COALESCE($4, status_reason), updated_at = $5
         ${stamp ? `, ${stamp} = COALESCE(${stamp}, $5)` : ''}
       WHERE id = $1 AND status = $2`,
      [messageId, current, next, isFailure(next) ? reason : null, at],
    );
    if (rowCount === 1) return { messageId, from: current, to: next };
  }
}

/**
 * Stores a verified provider event (raw, encrypted) once, and applies it. A replay finds its event id
 * already stored and changes nothing.
 */
export async function recordProviderEvent(
  db: Queryable,
  vault: Vault,
  event: ProviderEvent,
  receivedAt: Date,
): Promise<StatusChange | null> {
  let messageId = event.messageId;
  if (messageId === null && event.providerMessageId) {
    const { rows } = await db.query<{ id: number }>(
      'SELECT id FROM messages WHERE provider = $1 AND provider_message_id = $2',
      [event.provider, event.providerMessageId],
    );
    messageId = rows[0]?.id ?? null;
  }
  const { rowCount } = await db.query(
    `INSERT INTO delivery_events (provider, provider_event_id, message_id, event, status, occurred_at, received_at, payload_enc)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (provider, provider_event_id) DO NOTHING`,
    [
      event.provider,
      event.providerEventId,
      messageId,
      event.event,
      event.status,
      event.occurredAt,
      receivedAt,
      vault.seal(JSON.stringify(event.raw)),
    ],
  );
  if (rowCount === 0 || messageId === null || event.status === null) return null;
  const change = await advanceMessageStatus(
    db,
    messageId,
    event.status,
    event.reason,
    event.occurredAt ?? receivedAt,
  );
  // A receipt for a message whose send timed out: the provider had it after all. Its id is what the
  // lookup would have recorded, so the proof of notice names it.
  if (change?.from === 'unknown' && event.providerMessageId)
    await db.query(
      `UPDATE messages SET provider_message_id = COALESCE(provider_message_id, $2), unknown_at = NULL,
         sent_at = COALESCE(sent_at, $3) WHERE id = $1`,
      [messageId, event.providerMessageId, receivedAt],
    );
  return change;
}

/**
 * A send whose outcome we did not learn (the provider call timed out after the request went out).
 * Only from `sending`: a receipt that overtook the time-out has already said more.
 */
export async function markMessageUnknown(
  db: Queryable,
  messageId: number,
  provider: string,
  reason: string,
  at: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE messages SET status = 'unknown', unknown_at = $2, provider = $3, status_reason = $4, updated_at = $2
     WHERE id = $1 AND status = 'sending'`,
    [messageId, at, provider, reason],
  );
  return rowCount === 1;
}

/** A message to ask its provider about, with the contact the provider knows it by (still sealed). */
export interface LookupCandidate {
  id: number;
  channel: Channel;
  provider: string | null;
  provider_message_id: string | null;
  /** When our request went out. */
  since: Date;
  unknown_at: Date | null;
  email_enc: string | null;
  phone_enc: string | null;
}

/** Unknown outcomes due for a lookup (their provider's index has had time to catch up), oldest first. */
export async function listUnknownMessages(
  db: Queryable,
  dueBefore: Date,
  limit: number,
): Promise<LookupCandidate[]> {
  const { rows } = await db.query<LookupCandidate>(
    `SELECT m.id, m.channel, m.provider, m.provider_message_id, COALESCE(m.sending_at, m.unknown_at) AS since,
       m.unknown_at, p.email_enc, p.phone_enc
     FROM messages m JOIN people p ON p.id = m.person_id
     WHERE m.status = 'unknown' AND m.unknown_at <= $1 ORDER BY m.unknown_at LIMIT $2`,
    [dueBefore, limit],
  );
  return rows;
}

/**
 * Messages still `sent` long after they went out, through a provider that can be asked, not asked
 * since `checkedBefore`, and young enough for the provider still to hold them. Never-asked ones come
 * first, then the longest unasked, so messages the provider itself never settles (a carrier that
 * sends no confirmation) cannot starve newer ones. Claimed in the same statement
 * (provider_checked_at), so two reconcilers at once do not ask twice.
 */
export async function claimMessagesAwaitingReceipt(
  db: Queryable,
  options: {
    providers: string[];
    sentBefore: Date;
    sentAfter: Date;
    checkedBefore: Date;
    at: Date;
    limit: number;
  },
): Promise<LookupCandidate[]> {
  const { rows } = await db.query<LookupCandidate>(
    `WITH due AS (
       SELECT id FROM messages
       WHERE status = 'sent' AND sent_at <= $2 AND sent_at > $3 AND provider = ANY($1::text[])
         AND (provider_checked_at IS NULL OR provider_checked_at <= $4)
       ORDER BY provider_checked_at NULLS FIRST, sent_at LIMIT $6 FOR UPDATE SKIP LOCKED)
     UPDATE messages m SET provider_checked_at = $5 FROM due, people p
     WHERE m.id = due.id AND p.id = m.person_id
     RETURNING m.id, m.channel, m.provider, m.provider_message_id, m.sent_at AS since, m.unknown_at,
       p.email_enc, p.phone_enc`,
    [
      options.providers,
      options.sentBefore,
      options.sentAfter,
      options.checkedBefore,
      options.at,
      options.limit,
    ],
  );
  return rows;
}

/**
 * The provider has a message whose outcome we did not know: record its id as if it had answered
 * (`unknown` becomes `sent`; a receipt that arrived meanwhile is kept).
 */
export async function recordFoundAtProvider(
  db: Queryable,
  found: { messageId: number; provider: string; providerMessageId: string; at: Date },
): Promise<void> {
  await db.query(
    `UPDATE messages SET provider = $2, provider_message_id = $3, sent_at = COALESCE(sent_at, $4),
       unknown_at = NULL, provider_checked_at = $4, updated_at = $4,
       status = CASE WHEN status = 'unknown' THEN 'sent' ELSE status END
     WHERE id = $1 AND (status = 'unknown' OR provider_message_id IS NULL)`,
    [found.messageId, found.provider, found.providerMessageId, found.at],
  );
}

export interface RequeuedMessage {
  id: number;
  channel: Channel;
  send_after: Date | null;
  status: 'queued' | 'cancelled';
  campaign_status: string;
}

/**
 * Unknown outcomes the provider has no record of (or that cannot be asked and have waited long
 * enough): back to `queued` and counted as resends, in a campaign still going; cancelled otherwise.
 * Returns the ones to enqueue.
 */
export async function requeueUnknownMessages(
  db: Queryable,
  candidates: { id: number; unknownAt: Date | null }[],
  at: Date,
): Promise<RequeuedMessage[]> {
  if (candidates.length === 0) return [];
  const sorted = [...candidates].sort((a, b) => a.id - b.id);
  // Only a message still in the unknown outcome the provider was asked about: if another run has
  // resent it since and it timed out again, this answer is about the earlier send.
  const { rows } = await db.query<RequeuedMessage>(
    `UPDATE messages m SET
       status = CASE WHEN c.status IN ('sending', 'paused') THEN 'queued' ELSE 'cancelled' END,
       resends = m.resends + CASE WHEN c.status IN ('sending', 'paused') THEN 1 ELSE 0 END,
       unknown_at = NULL, send_after = NULL, updated_at = $3
     FROM campaigns c, unnest($1::bigint[], $2::timestamptz[]) AS v(id, unknown_at)
     WHERE m.id = v.id AND c.id = m.campaign_id AND m.status = 'unknown'
       AND m.unknown_at IS NOT DISTINCT FROM v.unknown_at
     RETURNING m.id, m.channel, m.send_after, m.status, c.status AS campaign_status`,
    [sorted.map((c) => c.id), sorted.map((c) => c.unknownAt), at],
  );
  return rows;
}
