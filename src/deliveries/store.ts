import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { ProviderEvent } from '../channels/channel.js';
import type { Channel } from '../channels/kinds.js';
import { isFailure, receiptAdvances, statusAfterReceipt, type MessageStatus } from './status.js';

export interface StatusChange {
  messageId: number;
  from: MessageStatus;
  to: MessageStatus;
}

type StampColumn = 'sent_at' | 'delivered_at' | 'failed_at';

const TIMESTAMP_COLUMN: Partial<Record<MessageStatus, StampColumn>> = {
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

/** A message a batch of receipts moved, with the steps it made (one per receipt that moved it). */
interface MessageUpdate {
  id: number;
  status: MessageStatus;
  reason: string | null;
  at: Date;
  stamps: Partial<Record<StampColumn, Date>>;
  /** The receipt came for a send whose outcome we did not know: the provider's id for it. */
  foundProviderMessageId: string | null;
}

/**
 * Stores a batch of verified provider events (raw, encrypted) once each, and applies them, set-based:
 * a few statements for the whole batch whatever its size. Must run in one transaction (an event
 * stored but not applied would make the provider's retry look like a replay). Replays (event ids
 * already stored, or twice in the batch) change nothing. The messages are locked in id order before
 * they are read, so two batches touching the same messages wait for each other instead of
 * deadlocking, and each message ends where applying its receipts one at a time, in the order given,
 * would leave it (receiptAdvances). Returns every step, in order.
 */
export async function recordProviderEvents(
  db: Queryable,
  vault: Vault,
  events: readonly ProviderEvent[],
  receivedAt: Date,
): Promise<StatusChange[]> {
  const fresh = await storeNewEvents(db, vault, await withMessageIds(db, events), receivedAt);
  const applicable = fresh.filter(
    (event): event is ProviderEvent & { messageId: number; status: MessageStatus } =>
      event.messageId !== null && event.status !== null,
  );
  if (applicable.length === 0) return [];

  const ids = [...new Set(applicable.map((event) => event.messageId))].sort((a, b) => a - b);
  const { rows } = await db.query<{ id: number; status: MessageStatus }>(
    'SELECT id, status FROM messages WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  const receiptsOf = new Map<number, typeof applicable>();
  for (const event of applicable) {
    const receipts = receiptsOf.get(event.messageId);
    if (receipts) receipts.push(event);
    else receiptsOf.set(event.messageId, [event]);
  }
  const changes: StatusChange[] = [];
  const updates: MessageUpdate[] = [];
  for (const { id, status } of rows) {
    const receipts = receiptsOf.get(id) ?? [];
    const steps = receiptAdvances(
      status,
      receipts.map((event) => event.status),
    );
    if (steps.length === 0) continue;
    const update: MessageUpdate = {
      id,
      status,
      reason: null,
      at: receivedAt,
      stamps: {},
      foundProviderMessageId: null,
    };
    for (const step of steps) {
      const receipt = receipts[step.index]!;
      const at = receipt.occurredAt ?? receivedAt;
      const stamp = TIMESTAMP_COLUMN[step.to];
      if (stamp) update.stamps[stamp] ??= at;
      if (isFailure(step.to) && receipt.reason !== null) update.reason = receipt.reason;
      // A receipt for a message whose send timed out: the provider had it after all. Its id is what
      // the lookup would have recorded, so the proof of notice names it.
      if (step.from === 'unknown' && receipt.providerMessageId)
        update.foundProviderMessageId = receipt.providerMessageId;
      update.status = step.to;
      update.at = at;
      changes.push({ messageId: id, from: step.from, to: step.to });
    }
    updates.push(update);
  }
  if (updates.length > 0) await applyMessageUpdates(db, updates, receivedAt);
  return changes;
}

/** Events that name the provider's message id only get ours, in one query. */
async function withMessageIds(db: Queryable, events: readonly ProviderEvent[]): Promise<ProviderEvent[]> {
  const unresolved = events.filter((event) => event.messageId === null && event.providerMessageId);
  if (unresolved.length === 0) return [...events];
  const { rows } = await db.query<{ id: number; provider: string; provider_message_id: string }>(
    `SELECT m.id, m.provider, m.provider_message_id FROM messages m
     JOIN unnest($1::text[], $2::text[]) AS v(provider, provider_message_id)
       ON m.provider = v.provider AND m.provider_message_id = v.provider_message_id`,
    [unresolved.map((event) => event.provider), unresolved.map((event) => event.providerMessageId)],
  );
  const byProviderId = new Map(rows.map((row) => [`${row.provider}\0${row.provider_message_id}`, row.id]));
  return events.map((event) =>
    event.messageId === null && event.providerMessageId
      ? { ...event, messageId: byProviderId.get(`${event.provider}\0${event.providerMessageId}`) ?? null }
      : event,
  );
}

/** Inserts the events not stored before, in one statement; returns those, in the order given. */
async function storeNewEvents(
  db: Queryable,
  vault: Vault,
  events: readonly ProviderEvent[],
  receivedAt: Date,
): Promise<ProviderEvent[]> {
  const firstOfEach = new Map<string, ProviderEvent>();
  for (const event of events) {
    const key = `${event.provider}\0${event.providerEventId}`;
    if (!firstOfEach.has(key)) firstOfEach.set(key, event);
  }
  const unique = [...firstOfEach.values()];
  if (unique.length === 0) return [];
  const { rows } = await db.query<{ provider: string; provider_event_id: string }>(
    `INSERT INTO delivery_events (provider, provider_event_id, message_id, event, status, occurred_at, received_at, payload_enc)
     SELECT provider, provider_event_id, message_id, event, status, occurred_at, $7, payload_enc
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $8::text[])
       AS v(provider, provider_event_id, message_id, event, status, occurred_at, payload_enc)
     ON CONFLICT (provider, provider_event_id) DO NOTHING
     RETURNING provider, provider_event_id`,
    [
      unique.map((event) => event.provider),
      unique.map((event) => event.providerEventId),
      unique.map((event) => event.messageId),
      unique.map((event) => event.event),
      unique.map((event) => event.status),
      unique.map((event) => event.occurredAt),
      receivedAt,
      unique.map((event) => vault.seal(JSON.stringify(event.raw))),
    ],
  );
  const stored = new Set(rows.map((row) => `${row.provider}\0${row.provider_event_id}`));
  return unique.filter((event) => stored.has(`${event.provider}\0${event.providerEventId}`));
}

/**
 * One UPDATE for every message the batch moved. The counters' statement trigger then runs once for
 * the batch and upserts its rows in key order (migration 0002), so batches cannot deadlock there.
 */
async function applyMessageUpdates(db: Queryable, updates: MessageUpdate[], receivedAt: Date): Promise<void> {
  await db.query(
    `UPDATE messages m SET status = v.status, status_reason = COALESCE(v.reason, m.status_reason),
       updated_at = v.at,
       sent_at = COALESCE(m.sent_at, v.sent_at, CASE WHEN v.found IS NOT NULL THEN $9::timestamptz END),
       delivered_at = COALESCE(m.delivered_at, v.delivered_at),
       failed_at = COALESCE(m.failed_at, v.failed_at),
       provider_message_id = CASE WHEN v.found IS NOT NULL THEN COALESCE(m.provider_message_id, v.found)
         ELSE m.provider_message_id END,
       unknown_at = CASE WHEN v.found IS NOT NULL THEN NULL ELSE m.unknown_at END
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
                 $6::timestamptz[], $7::timestamptz[], $8::text[])
       AS v(id, status, reason, at, sent_at, delivered_at, failed_at, found)
     WHERE m.id = v.id`,
    [
      updates.map((u) => u.id),
      updates.map((u) => u.status),
      updates.map((u) => u.reason),
      updates.map((u) => u.at),
      updates.map((u) => u.stamps.sent_at ?? null),
      updates.map((u) => u.stamps.delivered_at ?? null),
      updates.map((u) => u.stamps.failed_at ?? null),
      updates.map((u) => u.foundProviderMessageId),
      receivedAt,
    ],
  );
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
