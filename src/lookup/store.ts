import type { Queryable } from '../platform/db.js';

export type ContactChannel = 'email' | 'sms';

export interface AccessRequest {
  id: number;
  publicId: string;
  incidentId: number;
  channel: ContactChannel;
  contactHash: Buffer;
  locale: string;
  status: 'pending' | 'no_match' | 'matched' | 'sent';
  personId: number | null;
  codeEnc: string | null;
  expiresAt: Date;
}

interface AccessRequestRow {
  id: number;
  public_id: string;
  incident_id: number;
  channel: ContactChannel;
  contact_hash: Buffer;
  locale: string;
  status: AccessRequest['status'];
  person_id: number | null;
  code_enc: string | null;
  expires_at: Date;
}

export async function insertAccessRequest(
  db: Queryable,
  request: {
    publicId: string;
    incidentId: number;
    channel: ContactChannel;
    contactHash: Buffer;
    locale: string;
    createdAt: Date;
    expiresAt: Date;
  },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO access_requests (public_id, incident_id, channel, contact_hash, locale, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [
      request.publicId,
      request.incidentId,
      request.channel,
      request.contactHash,
      request.locale,
      request.createdAt,
      request.expiresAt,
    ],
  );
  return rows[0]!.id;
}

export async function findAccessRequest(db: Queryable, id: number): Promise<AccessRequest | null> {
  const { rows } = await db.query<AccessRequestRow>('SELECT * FROM access_requests WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    publicId: row.public_id,
    incidentId: row.incident_id,
    channel: row.channel,
    contactHash: row.contact_hash,
    locale: row.locale,
    status: row.status,
    personId: row.person_id,
    codeEnc: row.code_enc,
    expiresAt: row.expires_at,
  };
}

/** The person whose contact on file has this keyed hash; the lowest id when a phone is shared. */
export async function findPersonByContact(
  db: Queryable,
  incidentId: number,
  channel: ContactChannel,
  contactHash: Buffer,
): Promise<{ id: number } | null> {
  const column = channel === 'email' ? 'email_hash' : 'phone_hash';
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM people WHERE incident_id = $1 AND ${column} = $2 ORDER BY id LIMIT 1`,
    [incidentId, contactHash],
  );
  return rows[0] ?? null;
}

export async function markAccessRequestNoMatch(db: Queryable, id: number, at: Date): Promise<void> {
  await db.query(
    `UPDATE access_requests SET status = 'no_match', processed_at = $2 WHERE id = $1 AND status = 'pending'`,
    [id, at],
  );
}

/** Records the code for the matched person; false if another attempt got there first. */
export async function markAccessRequestMatched(
  db: Queryable,
  id: number,
  match: { personId: number; codeHash: Buffer; codeEnc: string; at: Date },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE access_requests SET status = 'matched', person_id = $2, code_hash = $3, code_enc = $4, processed_at = $5
     WHERE id = $1 AND status = 'pending'`,
    [id, match.personId, match.codeHash, match.codeEnc, match.at],
  );
  return rowCount === 1;
}

export async function markAccessRequestSent(db: Queryable, id: number): Promise<void> {
  await db.query(`UPDATE access_requests SET status = 'sent' WHERE id = $1 AND status = 'matched'`, [id]);
}

/**
 * Uses the code once: only an unexpired, unused code for this request and incident matches, and the
 * same statement marks it used, so two submissions cannot both succeed.
 */
export async function redeemAccessCode(
  db: Queryable,
  redemption: { publicId: string; incidentId: number; codeHash: Buffer; now: Date },
): Promise<number | null> {
  const { rows } = await db.query<{ person_id: number }>(
    `UPDATE access_requests SET used_at = $4
     WHERE public_id = $1 AND incident_id = $2 AND code_hash = $3
       AND used_at IS NULL AND expires_at > $4 AND person_id IS NOT NULL
     RETURNING person_id`,
    [redemption.publicId, redemption.incidentId, redemption.codeHash, redemption.now],
  );
  return rows[0]?.person_id ?? null;
}

export async function findPersonByReference(
  db: Queryable,
  incidentId: number,
  referenceHash: Buffer,
): Promise<{ id: number; postalCodeHash: Buffer | null; birthYearHash: Buffer | null } | null> {
  const { rows } = await db.query<{
    id: number;
    postal_code_hash: Buffer | null;
    birth_year_hash: Buffer | null;
  }>(
    'SELECT id, postal_code_hash, birth_year_hash FROM people WHERE incident_id = $1 AND reference_hash = $2',
    [incidentId, referenceHash],
  );
  const row = rows[0];
  return row
    ? { id: row.id, postalCodeHash: row.postal_code_hash, birthYearHash: row.birth_year_hash }
    : null;
}

export async function contactOnFile(
  db: Queryable,
  personId: number,
): Promise<{ emailEnc: string | null; phoneEnc: string | null; nameEnc: string | null } | null> {
  const { rows } = await db.query<{
    email_enc: string | null;
    phone_enc: string | null;
    name_enc: string | null;
  }>('SELECT email_enc, phone_enc, name_enc FROM people WHERE id = $1', [personId]);
  const row = rows[0];
  return row ? { emailEnc: row.email_enc, phoneEnc: row.phone_enc, nameEnc: row.name_enc } : null;
}
