import crypto from 'node:crypto';
import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { dedupeKey } from '../people/store.js';
import {
  formatReferenceCode,
  normalizeReferenceCode,
  REFERENCE_CODE_BYTES,
} from '../people/reference-code.js';

export interface Subscription {
  id: number;
  incidentId: number;
  contactHash: Buffer;
  contactEnc: string;
  locale: string;
  status: 'pending' | 'sent' | 'confirmed' | 'expired';
  createdAt: Date;
}

export async function insertSubscription(
  db: Queryable,
  subscription: { incidentId: number; contactHash: Buffer; contactEnc: string; locale: string; at: Date },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO subscriptions (incident_id, channel, contact_hash, contact_enc, locale, created_at)
     VALUES ($1, 'email', $2, $3, $4, $5) RETURNING id`,
    [
      subscription.incidentId,
      subscription.contactHash,
      subscription.contactEnc,
      subscription.locale,
      subscription.at,
    ],
  );
  return rows[0]!.id;
}

export async function findSubscription(db: Queryable, id: number): Promise<Subscription | null> {
  const { rows } = await db.query<{
    id: number;
    incident_id: number;
    contact_hash: Buffer;
    contact_enc: string;
    locale: string;
    status: Subscription['status'];
    created_at: Date;
  }>('SELECT * FROM subscriptions WHERE id = $1', [id]);
  const row = rows[0];
  return row
    ? {
        id: row.id,
        incidentId: row.incident_id,
        contactHash: row.contact_hash,
        contactEnc: row.contact_enc,
        locale: row.locale,
        status: row.status,
        createdAt: row.created_at,
      }
    : null;
}

/** Stores the confirmation token's hash; false if a token was already issued (a retried job). */
export async function setConfirmationToken(db: Queryable, id: number, tokenHash: Buffer): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE subscriptions SET token_hash = $2 WHERE id = $1 AND status = 'pending' AND token_hash IS NULL`,
    [id, tokenHash],
  );
  return rowCount === 1;
}

export async function markConfirmationSent(db: Queryable, id: number, at: Date): Promise<void> {
  await db.query(
    `UPDATE subscriptions SET status = 'sent', sent_at = $2 WHERE id = $1 AND status = 'pending'`,
    [id, at],
  );
}

/** Confirms once, within `maxAgeMs` of the request; returns the subscription confirmed. */
export async function confirmByToken(
  db: Queryable,
  confirmation: { incidentId: number; tokenHash: Buffer; now: Date; maxAgeMs: number },
): Promise<{ id: number; contactHash: Buffer; contactEnc: string; locale: string } | null> {
  const { rows } = await db.query<{ id: number; contact_hash: Buffer; contact_enc: string; locale: string }>(
    `UPDATE subscriptions SET status = 'confirmed', confirmed_at = $3
     WHERE incident_id = $1 AND token_hash = $2 AND status IN ('pending', 'sent')
       AND created_at > $3::timestamptz - make_interval(secs => $4)
     RETURNING id, contact_hash, contact_enc, locale`,
    [confirmation.incidentId, confirmation.tokenHash, confirmation.now, confirmation.maxAgeMs / 1000],
  );
  const row = rows[0];
  return row
    ? { id: row.id, contactHash: row.contact_hash, contactEnc: row.contact_enc, locale: row.locale }
    : null;
}

/**
 * Marks the person on file with this email as subscribed, adding them (as not affected) if they are not
 * on file: the campaigns' 'subscribers' audience reads people.subscribed_at. Never overwrites anyone.
 */
export async function subscribePersonByEmail(
  db: Queryable,
  vault: Vault,
  subscriber: { incidentId: number; email: string; emailHash: Buffer; locale: string; at: Date },
): Promise<number> {
  const code = formatReferenceCode(crypto.randomBytes(REFERENCE_CODE_BYTES));
  await db.query(
    `INSERT INTO people (incident_id, dedupe_hash, reference_hash, reference_enc, email_hash, email_enc, locale, affected)
     VALUES ($1, $2, $3, $4, $5, $6, $7, false)
     ON CONFLICT (incident_id, dedupe_hash) DO NOTHING`,
    [
      subscriber.incidentId,
      vault.hash(
        'dedupe',
        dedupeKey({ email: subscriber.email, phone: null, name: null, postalAddress: null }),
      ),
      vault.hash('reference', normalizeReferenceCode(code)!),
      vault.seal(code),
      subscriber.emailHash,
      vault.seal(subscriber.email),
      subscriber.locale,
    ],
  );
  const { rows } = await db.query<{ id: number }>(
    `UPDATE people SET subscribed_at = COALESCE(subscribed_at, $3), updated_at = $3
     WHERE incident_id = $1 AND email_hash = $2 RETURNING id`,
    [subscriber.incidentId, subscriber.emailHash, subscriber.at],
  );
  return rows[0]!.id;
}

export async function linkSubscriptionToPerson(db: Queryable, id: number, personId: number): Promise<void> {
  await db.query('UPDATE subscriptions SET person_id = $2 WHERE id = $1', [id, personId]);
}

/** No more update emails for this person (the first time counts; repeating changes nothing). */
export async function optOutOfUpdates(db: Queryable, personId: number, at: Date): Promise<void> {
  await db.query(
    'UPDATE people SET updates_opted_out_at = COALESCE(updates_opted_out_at, $2) WHERE id = $1',
    [personId, at],
  );
}
