import { isUniqueViolation, withTransaction, type Db, type Queryable } from '../platform/db.js';
import type { Eligibility, OfferMode, PoolKind } from './rules.js';

export interface Pool {
  id: number;
  incidentId: number;
  kind: PoolKind;
  name: string;
  vendorName: string;
  enrollmentUrlTemplate: string | null;
  instructions: Record<string, string>;
  /** YYYY-MM-DD, the last day the code can be used; null for codes that do not expire. */
  enrollBy: string | null;
  eligibility: Eligibility;
  eligibleDataTypes: string[];
  offerMode: OfferMode;
  lowStockThreshold: number;
  stockAlertLevel: 'low' | 'empty' | null;
  createdAt: Date;
}

interface PoolRow {
  id: number;
  incident_id: number;
  kind: PoolKind;
  name: string;
  vendor_name: string;
  enrollment_url_template: string | null;
  instructions: Record<string, string>;
  enroll_by: string | null;
  eligibility: Eligibility;
  eligible_data_types: string[];
  offer_mode: OfferMode;
  low_stock_threshold: number;
  stock_alert_level: 'low' | 'empty' | null;
  created_at: Date;
}

// A `date` read as text stays the calendar day it is; as a JS Date it would shift with the time zone.
const POOL_COLUMNS = `id, incident_id, kind, name, vendor_name, enrollment_url_template, instructions,
  enroll_by::text AS enroll_by, eligibility, eligible_data_types, offer_mode, low_stock_threshold,
  stock_alert_level, created_at`;

function toPool(row: PoolRow): Pool {
  return {
    id: row.id,
    incidentId: row.incident_id,
    kind: row.kind,
    name: row.name,
    vendorName: row.vendor_name,
    enrollmentUrlTemplate: row.enrollment_url_template,
    instructions: row.instructions,
    enrollBy: row.enroll_by,
    eligibility: row.eligibility,
    eligibleDataTypes: row.eligible_data_types,
    offerMode: row.offer_mode,
    lowStockThreshold: row.low_stock_threshold,
    stockAlertLevel: row.stock_alert_level,
    createdAt: row.created_at,
  };
}

export type NewPool = Omit<Pool, 'id' | 'stockAlertLevel' | 'createdAt'> & { createdBy: number | null };

export async function insertPool(db: Queryable, pool: NewPool): Promise<Pool> {
  const { rows } = await db.query<PoolRow>(
    `INSERT INTO code_pools (incident_id, kind, name, vendor_name, enrollment_url_template, instructions,
       enroll_by, eligibility, eligible_data_types, offer_mode, low_stock_threshold, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${POOL_COLUMNS}`,
    [
      pool.incidentId,
      pool.kind,
      pool.name,
      pool.vendorName,
      pool.enrollmentUrlTemplate,
      JSON.stringify(pool.instructions),
      pool.enrollBy,
      pool.eligibility,
      pool.eligibleDataTypes,
      pool.offerMode,
      pool.lowStockThreshold,
      pool.createdBy,
    ],
  );
  return toPool(rows[0]!);
}

export async function findPool(db: Queryable, id: number): Promise<Pool | null> {
  const { rows } = await db.query<PoolRow>(`SELECT ${POOL_COLUMNS} FROM code_pools WHERE id = $1`, [id]);
  return rows[0] ? toPool(rows[0]) : null;
}

export async function listPools(db: Queryable, filter: { incidentId?: number } = {}): Promise<Pool[]> {
  const { rows } = await db.query<PoolRow>(
    `SELECT ${POOL_COLUMNS} FROM code_pools WHERE ($1::bigint IS NULL OR incident_id = $1) ORDER BY id`,
    [filter.incidentId ?? null],
  );
  return rows.map(toPool);
}

export interface PoolStock {
  total: number;
  available: number;
  assigned: number;
  enrollmentStarted: number;
  redeemed: number;
}

export async function poolStock(db: Queryable, poolId: number): Promise<PoolStock> {
  const { rows } = await db.query<PoolStock>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE person_id IS NULL)::int AS available,
            count(person_id)::int AS assigned,
            count(enrollment_started_at)::int AS "enrollmentStarted",
            count(redeemed_at)::int AS redeemed
     FROM codes WHERE pool_id = $1`,
    [poolId],
  );
  return rows[0]!;
}

/**
 * How many codes are free, counting no further than `limit`: after each reveal we only need to know
 * whether stock is under the threshold, and this stays cheap in a pool of a million codes.
 */
export async function countAvailableUpTo(db: Queryable, poolId: number, limit: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM codes WHERE pool_id = $1 AND person_id IS NULL LIMIT $2) AS free`,
    [poolId, limit],
  );
  return rows[0]!.n;
}

export async function existingCodeHashes(
  db: Queryable,
  poolId: number,
  hashes: Buffer[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < hashes.length; i += 10_000) {
    const { rows } = await db.query<{ code_hash: Buffer }>(
      'SELECT code_hash FROM codes WHERE pool_id = $1 AND code_hash = ANY($2::bytea[])',
      [poolId, hashes.slice(i, i + 10_000)],
    );
    for (const row of rows) found.add(row.code_hash.toString('hex'));
  }
  return found;
}

/** Stores an upload's codes, all or none. */
export async function insertCodes(
  db: Db,
  upload: { poolId: number; uploadedBy: number | null; source: string },
  codes: { hash: Buffer; sealed: string }[],
): Promise<number> {
  return withTransaction(db, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      'INSERT INTO code_uploads (pool_id, uploaded_by, source, code_count) VALUES ($1, $2, $3, $4) RETURNING id',
      [upload.poolId, upload.uploadedBy, upload.source, codes.length],
    );
    const uploadId = rows[0]!.id;
    for (let i = 0; i < codes.length; i += 5_000) {
      const batch = codes.slice(i, i + 5_000);
      await client.query(
        `INSERT INTO codes (pool_id, upload_id, code_hash, code_enc)
         SELECT $1, $2, hash, sealed FROM unnest($3::bytea[], $4::text[]) AS t(hash, sealed)`,
        [upload.poolId, uploadId, batch.map((c) => c.hash), batch.map((c) => c.sealed)],
      );
    }
    return uploadId;
  });
}

export interface Assignment {
  codeId: number;
  sealedCode: string;
  assignedAt: Date;
  enrollmentStartedAt: Date | null;
  redeemedAt: Date | null;
}

interface AssignmentRow {
  id: number;
  code_enc: string;
  assigned_at: Date;
  enrollment_started_at: Date | null;
  redeemed_at: Date | null;
}

function toAssignment(row: AssignmentRow): Assignment {
  return {
    codeId: row.id,
    sealedCode: row.code_enc,
    assignedAt: row.assigned_at,
    enrollmentStartedAt: row.enrollment_started_at,
    redeemedAt: row.redeemed_at,
  };
}

export async function findAssignment(
  db: Queryable,
  poolId: number,
  personId: number,
): Promise<Assignment | null> {
  const { rows } = await db.query<AssignmentRow>(
    'SELECT id, code_enc, assigned_at, enrollment_started_at, redeemed_at FROM codes WHERE pool_id = $1 AND person_id = $2',
    [poolId, personId],
  );
  return rows[0] ? toAssignment(rows[0]) : null;
}

export type ClaimResult =
  { outcome: 'assigned' | 'already_had'; assignment: Assignment } | { outcome: 'empty' };

/**
 * Gives a person the pool's next free code, or the one they already have. Exactly one code per
 * person per pool, and never one code to two people, from any number of processes at once:
 *
 * - an advisory lock on (pool, person) makes one person's simultaneous clicks take turns, so the
 *   second finds the first one's code instead of taking another;
 * - `FOR UPDATE SKIP LOCKED` lets different people take different codes without waiting on each other;
 * - the unique constraint on (pool_id, person_id) is the backstop if anything else slips.
 */
export async function claimCode(db: Db, poolId: number, personId: number, at: Date): Promise<ClaimResult> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await withTransaction(db, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `candor-code-claim:${poolId}:${personId}`,
        ]);
        const existing = await findAssignment(client, poolId, personId);
        if (existing) return { outcome: 'already_had' as const, assignment: existing };
        for (let lockedOnly = false; ; lockedOnly = true) {
          // The first try skips codes other reveals hold; if only held codes are left, the next waits
          // for them, since a holder may yet roll back and free its code.
          const { rows } = await client.query<AssignmentRow>(
            `UPDATE codes SET person_id = $2, assigned_at = $3
             WHERE id = (SELECT id FROM codes WHERE pool_id = $1 AND person_id IS NULL ORDER BY id
                         LIMIT 1 FOR UPDATE ${lockedOnly ? '' : 'SKIP LOCKED'})
               AND person_id IS NULL
             RETURNING id, code_enc, assigned_at, enrollment_started_at, redeemed_at`,
            [poolId, personId, at],
          );
          if (rows[0]) return { outcome: 'assigned' as const, assignment: toAssignment(rows[0]) };
          if ((await countAvailableUpTo(client, poolId, 1)) === 0) return { outcome: 'empty' as const };
        }
      });
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 3) throw error;
    }
  }
}

/** Raises the pool's alert level if it is not already that severe; true for exactly one caller. */
export async function raiseAlertLevel(
  db: Queryable,
  poolId: number,
  level: 'low' | 'empty',
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE code_pools SET stock_alert_level = $2, updated_at = now()
     WHERE id = $1 AND (stock_alert_level IS NULL OR (stock_alert_level = 'low' AND $2 = 'empty'))`,
    [poolId, level],
  );
  return rowCount === 1;
}

export async function setAlertLevel(
  db: Queryable,
  poolId: number,
  level: 'low' | 'empty' | null,
): Promise<void> {
  await db.query('UPDATE code_pools SET stock_alert_level = $2, updated_at = now() WHERE id = $1', [
    poolId,
    level,
  ]);
}

export async function insertStockAlert(
  db: Queryable,
  alert: { poolId: number; level: 'low' | 'empty'; available: number; at: Date },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    'INSERT INTO code_stock_alerts (pool_id, level, available, raised_at) VALUES ($1, $2, $3, $4) RETURNING id',
    [alert.poolId, alert.level, alert.available, alert.at],
  );
  return rows[0]!.id;
}

export async function recordAlertEmails(db: Queryable, alertId: number, count: number): Promise<void> {
  await db.query('UPDATE code_stock_alerts SET admins_emailed = $2 WHERE id = $1', [alertId, count]);
}

/** Records the first click-through to the vendor; later clicks keep the first time. */
export async function markEnrollmentStarted(db: Queryable, codeId: number, at: Date): Promise<void> {
  await db.query(
    'UPDATE codes SET enrollment_started_at = COALESCE(enrollment_started_at, $2) WHERE id = $1',
    [codeId, at],
  );
}

export async function findCodeByHash(
  db: Queryable,
  poolId: number,
  hash: Buffer,
): Promise<{ id: number; personId: number | null; redeemedAt: Date | null } | null> {
  const { rows } = await db.query<{ id: number; person_id: number | null; redeemed_at: Date | null }>(
    'SELECT id, person_id, redeemed_at FROM codes WHERE pool_id = $1 AND code_hash = $2',
    [poolId, hash],
  );
  const row = rows[0];
  return row ? { id: row.id, personId: row.person_id, redeemedAt: row.redeemed_at } : null;
}

/** Marks a code redeemed once; false when it already was (a retried API call changes nothing). */
export async function markRedeemed(
  db: Queryable,
  codeId: number,
  by: { via: 'staff' | 'api'; staffId: number | null },
  at: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE codes SET redeemed_at = $2, redeemed_via = $3, redeemed_by = $4
     WHERE id = $1 AND redeemed_at IS NULL AND person_id IS NOT NULL`,
    [codeId, at, by.via, by.staffId],
  );
  return rowCount === 1;
}

export interface StockWarning {
  poolId: number;
  incidentId: number;
  poolName: string;
  level: 'low' | 'empty';
  available: number;
  threshold: number;
}

/** Pools whose stock alert stands: the console's banner. */
export async function listStockWarnings(db: Queryable): Promise<StockWarning[]> {
  const { rows } = await db.query<{
    id: number;
    incident_id: number;
    name: string;
    stock_alert_level: 'low' | 'empty';
    low_stock_threshold: number;
    available: number;
  }>(
    `SELECT cp.id, cp.incident_id, cp.name, cp.stock_alert_level, cp.low_stock_threshold,
            (SELECT count(*)::int FROM codes c WHERE c.pool_id = cp.id AND c.person_id IS NULL) AS available
     FROM code_pools cp WHERE cp.stock_alert_level IS NOT NULL ORDER BY cp.id`,
  );
  return rows.map((row) => ({
    poolId: row.id,
    incidentId: row.incident_id,
    poolName: row.name,
    level: row.stock_alert_level,
    available: row.available,
    threshold: row.low_stock_threshold,
  }));
}

export async function listActiveAdmins(
  db: Queryable,
): Promise<{ id: number; displayName: string; sealedEmail: string }[]> {
  const { rows } = await db.query<{ id: number; display_name: string; email_enc: string }>(
    "SELECT id, display_name, email_enc FROM staff WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id",
  );
  return rows.map((row) => ({ id: row.id, displayName: row.display_name, sealedEmail: row.email_enc }));
}

export async function insertCodeCampaign(
  db: Queryable,
  link: { campaignId: number; poolId: number; purpose: 'offer' | 'reminder'; daysBefore: number | null },
): Promise<void> {
  await db.query(
    'INSERT INTO code_campaigns (campaign_id, pool_id, purpose, days_before) VALUES ($1, $2, $3, $4)',
    [link.campaignId, link.poolId, link.purpose, link.daysBefore],
  );
}

/** The pool a code campaign is about, with its incident's slug, in one read: the send path asks per message. */
export async function findPoolOfCampaign(
  db: Queryable,
  campaignId: number,
): Promise<{ pool: Pool; incidentSlug: string } | null> {
  const { rows } = await db.query<PoolRow & { incident_slug: string }>(
    `SELECT ${POOL_COLUMNS}, (SELECT slug FROM incidents i WHERE i.id = code_pools.incident_id) AS incident_slug
     FROM code_pools WHERE id = (SELECT pool_id FROM code_campaigns WHERE campaign_id = $1)`,
    [campaignId],
  );
  const row = rows[0];
  return row ? { pool: toPool(row), incidentSlug: row.incident_slug } : null;
}
