import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { ProviderEvent } from '../channels/channel.js';
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
  return advanceMessageStatus(db, messageId, event.status, event.reason, event.occurredAt ?? receivedAt);
}
