import { withTransaction, type Db, type Queryable } from '../platform/db.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';

export interface RetentionDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: { retentionDays: number };
}

export interface PurgeReport {
  incidentId: number;
  slug: string;
  people: number;
}

const DAY_MS = 86_400_000;
/** One-time lookup codes live ten minutes; a day later nothing can need them. */
const EXPIRED_ACCESS_REQUESTS_AFTER_MS = DAY_MS;

/** The day an incident's personal data goes: RETENTION_DAYS after it was resolved. */
export function purgeDate(resolvedAt: Date | null, retentionDays: number): Date | null {
  return resolvedAt ? new Date(resolvedAt.getTime() + retentionDays * DAY_MS) : null;
}

/** Where an incident stands on the retention schedule, for its console page. */
export async function retentionOf(
  deps: Pick<RetentionDeps, 'db' | 'config'>,
  incidentId: number,
): Promise<{ purgeOn: Date | null; purgedAt: Date | null }> {
  const { rows } = await deps.db.query<{ resolved_at: Date | null; personal_data_purged_at: Date | null }>(
    'SELECT resolved_at, personal_data_purged_at FROM incidents WHERE id = $1',
    [incidentId],
  );
  return {
    purgeOn: purgeDate(rows[0]?.resolved_at ?? null, deps.config.retentionDays),
    purgedAt: rows[0]?.personal_data_purged_at ?? null,
  };
}

/**
 * Purges what the retention schedule says is due: the personal data of every incident resolved more
 * than RETENTION_DAYS ago (again, if people were imported after an earlier purge), expired
 * one-time lookup codes, and staff invitations closed longer ago than that. Each incident in a transaction of its own; safe to run twice at once.
 */
export async function purgeDue(
  deps: RetentionDeps,
  options: { dryRun?: boolean } = {},
): Promise<PurgeReport[]> {
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - deps.config.retentionDays * DAY_MS);
  const { rows: due } = await deps.db.query<{ id: number; slug: string; people: number }>(
    `SELECT i.id, i.slug,
       (SELECT count(*)::int FROM people p WHERE p.incident_id = i.id AND ${HOLDS_PERSONAL_DATA}) AS people
     FROM incidents i
     WHERE i.state = 'resolved' AND i.resolved_at <= $1
       AND (i.personal_data_purged_at IS NULL
            OR EXISTS (SELECT 1 FROM people p WHERE p.incident_id = i.id AND ${HOLDS_PERSONAL_DATA}))
     ORDER BY i.id`,
    [cutoff],
  );
  if (options.dryRun) return due.map((row) => ({ incidentId: row.id, slug: row.slug, people: row.people }));

  const reports: PurgeReport[] = [];
  for (const incident of due) {
    const people = await withTransaction(deps.db, (tx) => purgeIncident(tx, incident.id, now));
    reports.push({ incidentId: incident.id, slug: incident.slug, people });
    deps.logger.info({ incidentId: incident.id, people }, 'personal data purged');
  }
  // Texts and emails from numbers and addresses we hold for nobody belong to no incident: they go
  // RETENTION_DAYS after they came.
  const unmatched = await withTransaction(deps.db, (tx) =>
    deleteSupportRequests(tx, 'incident_id IS NULL AND created_at < $1', [cutoff]),
  );
  if (unmatched) deps.logger.info({ supportRequests: unmatched }, 'unmatched replies purged');
  const { rowCount } = await deps.db.query('DELETE FROM access_requests WHERE expires_at < $1', [
    new Date(now.getTime() - EXPIRED_ACCESS_REQUESTS_AFTER_MS),
  ]);
  if (rowCount) deps.logger.info({ accessRequests: rowCount }, 'expired lookup codes purged');
  const invitations = await purgeClosedInvitations(deps.db, cutoff);
  if (invitations) deps.logger.info({ staffInvitations: invitations }, 'closed staff invitations purged');
  return reports;
}

/**
 * Staff invitations hold an address (sealed) that has no use once the link is closed: accepted (the
 * account has the address now), withdrawn or expired. They go RETENTION_DAYS after closing, by
 * which time the console's list and any question about them are long past; the audit log keeps who
 * invited whom.
 */
async function purgeClosedInvitations(db: Queryable, cutoff: Date): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM staff_invitations WHERE COALESCE(accepted_at, withdrawn_at, expires_at) < $1',
    [cutoff],
  );
  return rowCount ?? 0;
}

/** Support requests matching `where`, with their notes and staff answers: what people and staff wrote. */
async function deleteSupportRequests(tx: Queryable, where: string, params: unknown[]): Promise<number> {
  const ids = `SELECT id FROM support_requests WHERE ${where}`;
  await tx.query(`DELETE FROM support_notes WHERE support_request_id IN (${ids})`, params);
  await tx.query(`DELETE FROM support_replies WHERE support_request_id IN (${ids})`, params);
  const { rowCount } = await tx.query(`DELETE FROM support_requests WHERE ${where}`, params);
  return rowCount ?? 0;
}

const HOLDS_PERSONAL_DATA = `(p.name_enc IS NOT NULL OR p.email_enc IS NOT NULL OR p.phone_enc IS NOT NULL
  OR p.postal_address_enc IS NOT NULL OR p.postal_code_hash IS NOT NULL OR p.birth_year_hash IS NOT NULL)`;

/**
 * Removes one incident's personal data and keeps the proof of notice: each person keeps their
 * reference code, language, country, exposed data types and every message with its times and
 * status; names, contact details, the hashes that find them, free texts people wrote, the letters
 * and outbox copies and the raw provider payloads go.
 */
async function purgeIncident(tx: Queryable, incidentId: number, now: Date): Promise<number> {
  const messagesOfIncident = `SELECT m.id FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.incident_id = $1`;
  // The dedupe hash is a hash of the contact: it becomes the reference hash, unique and meaningless.
  const { rowCount } = await tx.query(
    `UPDATE people p SET name_enc = NULL, email_enc = NULL, phone_enc = NULL, postal_address_enc = NULL,
       email_hash = NULL, phone_hash = NULL, postal_code_hash = NULL, birth_year_hash = NULL,
       dedupe_hash = reference_hash, region = NULL, time_zone = NULL, segment = NULL,
       accessibility_needs = '{}', preferred_channel = NULL, updated_at = $2
     WHERE p.incident_id = $1 AND ${HOLDS_PERSONAL_DATA}`,
    [incidentId, now],
  );
  await tx.query(`DELETE FROM sandbox_outbox WHERE message_id IN (${messagesOfIncident})`, [incidentId]);
  await tx.query(`DELETE FROM letters WHERE message_id IN (${messagesOfIncident})`, [incidentId]);
  await tx.query(
    `UPDATE delivery_events SET payload_enc = NULL WHERE message_id IN (${messagesOfIncident})`,
    [incidentId],
  );
  await tx.query('DELETE FROM subscriptions WHERE incident_id = $1', [incidentId]);
  await deleteSupportRequests(tx, 'incident_id = $1', [incidentId]);
  await tx.query('DELETE FROM access_requests WHERE incident_id = $1', [incidentId]);
  await tx.query(
    'DELETE FROM import_rows WHERE import_id IN (SELECT id FROM imports WHERE incident_id = $1)',
    [incidentId],
  );
  await tx.query('UPDATE incidents SET personal_data_purged_at = $2 WHERE id = $1', [incidentId, now]);
  return rowCount ?? 0;
}
