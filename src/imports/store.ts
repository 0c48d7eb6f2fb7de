import type { Queryable } from '../platform/db.js';
import type { RowError } from './validate.js';
import { PERSON_COLUMNS } from '../people/store.js';

export const IMPORT_STATUSES = [
  'validating',
  'needs_review',
  'importing',
  'completed',
  'discarded',
  'failed',
] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export interface ImportRecord {
  id: number;
  incidentId: number;
  createdBy: number | null;
  filename: string | null;
  status: ImportStatus;
  rowsProcessed: number;
  rowsValid: number;
  rowsInvalid: number;
  peopleCreated: number | null;
  peopleMerged: number | null;
  failure: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

interface ImportRow {
  id: number;
  incident_id: number;
  created_by: number | null;
  filename: string | null;
  status: ImportStatus;
  rows_processed: number;
  rows_valid: number;
  rows_invalid: number;
  people_created: number | null;
  people_merged: number | null;
  failure: string | null;
  created_at: Date;
  finished_at: Date | null;
}

function toImport(row: ImportRow): ImportRecord {
  return {
    id: row.id,
    incidentId: row.incident_id,
    createdBy: row.created_by,
    filename: row.filename,
    status: row.status,
    rowsProcessed: row.rows_processed,
    rowsValid: row.rows_valid,
    rowsInvalid: row.rows_invalid,
    peopleCreated: row.people_created,
    peopleMerged: row.people_merged,
    failure: row.failure,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export async function insertImport(
  db: Queryable,
  input: { incidentId: number; createdBy: number | null; filename: string | null },
): Promise<ImportRecord> {
  const { rows } = await db.query<ImportRow>(
    'INSERT INTO imports (incident_id, created_by, filename) VALUES ($1, $2, $3) RETURNING *',
    [input.incidentId, input.createdBy, input.filename],
  );
  return toImport(rows[0]!);
}

export async function findImport(db: Queryable, id: number): Promise<ImportRecord | null> {
  const { rows } = await db.query<ImportRow>('SELECT * FROM imports WHERE id = $1', [id]);
  return rows[0] ? toImport(rows[0]) : null;
}

export async function listImports(db: Queryable, incidentId: number, limit = 20): Promise<ImportRecord[]> {
  const { rows } = await db.query<ImportRow>(
    'SELECT * FROM imports WHERE incident_id = $1 ORDER BY id DESC LIMIT $2',
    [incidentId, limit],
  );
  return rows.map(toImport);
}

export async function recordProgress(
  db: Queryable,
  id: number,
  counts: { processed: number; valid: number; invalid: number },
): Promise<void> {
  await db.query('UPDATE imports SET rows_processed = $2, rows_valid = $3, rows_invalid = $4 WHERE id = $1', [
    id,
    counts.processed,
    counts.valid,
    counts.invalid,
  ]);
}

export async function insertImportErrors(db: Queryable, importId: number, errors: RowError[]): Promise<void> {
  if (errors.length === 0) return;
  await db.query(
    `INSERT INTO import_errors (import_id, line, column_name, reason, shown_value)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])`,
    [
      importId,
      errors.map((e) => e.line),
      errors.map((e) => e.column),
      errors.map((e) => e.reason),
      errors.map((e) => e.value),
    ],
  );
}

export async function listImportErrors(
  db: Queryable,
  importId: number,
  limit: number,
  afterLine = 0,
): Promise<RowError[]> {
  const { rows } = await db.query<{
    line: number;
    column_name: string | null;
    reason: string;
    shown_value: string | null;
  }>(
    'SELECT line, column_name, reason, shown_value FROM import_errors WHERE import_id = $1 AND line > $3 ORDER BY line, column_name LIMIT $2',
    [importId, limit, afterLine],
  );
  return rows.map((row) => ({
    line: row.line,
    column: row.column_name as RowError['column'],
    reason: row.reason as RowError['reason'],
    value: row.shown_value,
  }));
}

export async function setImportStatus(
  db: Queryable,
  id: number,
  from: readonly ImportStatus[],
  to: ImportStatus,
  extra: { failure?: string; finishedAt?: Date; created?: number; merged?: number } = {},
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE imports SET status = $3, failure = COALESCE($4, failure), finished_at = COALESCE($5, finished_at),
       people_created = COALESCE($6, people_created), people_merged = COALESCE($7, people_merged)
     WHERE id = $1 AND status = ANY($2::text[])`,
    [
      id,
      from,
      to,
      extra.failure ?? null,
      extra.finishedAt ?? null,
      extra.created ?? null,
      extra.merged ?? null,
    ],
  );
  return rowCount === 1;
}

export const STAGING_COLUMNS = ['import_id', 'line', ...PERSON_COLUMNS] as const;

/**
 * Moves an import's staged rows into people in one statement: all of them or none. Two rows for one
 * contact (same keyed hash) collapse to the later line; a contact already on file is updated and keeps
 * the reference code already printed on its notices.
 *
 * The first import into an incident with nobody in it (the common case: a breach's list) has no one
 * to merge with, so its rows are inserted without conflict handling; and when the file's contacts are
 * known to be distinct they are not sorted either. Should someone be added to the incident meanwhile
 * (the API, between the check and the insert), the unique index refuses and the full merge runs instead.
 * Call it inside a transaction: the fast attempt is undone to a savepoint before the merge.
 */
export async function mergeStagedRows(
  db: Queryable,
  importId: number,
  incidentId: number,
  options: { distinctContacts: boolean } = { distinctContacts: false },
): Promise<{ created: number; updated: number; path: 'insert' | 'merge' }> {
  const { rows: empty } = await db.query<{ empty: boolean }>(
    'SELECT NOT EXISTS (SELECT 1 FROM people WHERE incident_id = $1) AS empty',
    [incidentId],
  );
  if (empty[0]?.empty) {
    await db.query('SAVEPOINT first_import');
    try {
      const { rowCount } = await db.query(
        options.distinctContacts
          ? `INSERT INTO people (incident_id, ${PERSON_COLUMNS.join(', ')})
             SELECT $2::bigint, ${PERSON_COLUMNS.join(', ')} FROM import_rows WHERE import_id = $1`
          : `INSERT INTO people (incident_id, ${PERSON_COLUMNS.join(', ')})
             SELECT DISTINCT ON (dedupe_hash) $2::bigint, ${PERSON_COLUMNS.join(', ')}
             FROM import_rows WHERE import_id = $1 ORDER BY dedupe_hash, line DESC`,
        [importId, incidentId],
      );
      await db.query('RELEASE SAVEPOINT first_import');
      return { created: rowCount ?? 0, updated: 0, path: 'insert' };
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await db.query('ROLLBACK TO SAVEPOINT first_import');
    }
  }
  const updates = PERSON_COLUMNS.filter(
    (column) => !['dedupe_hash', 'reference_hash', 'reference_enc'].includes(column),
  )
    .map((column) => `${column} = EXCLUDED.${column}`)
    .join(', ');
  const { rows } = await db.query<{ created: number; updated: number }>(
    `WITH upserted AS (
       INSERT INTO people (incident_id, ${PERSON_COLUMNS.join(', ')})
       SELECT DISTINCT ON (dedupe_hash) $2::bigint, ${PERSON_COLUMNS.join(', ')}
       FROM import_rows WHERE import_id = $1 ORDER BY dedupe_hash, line DESC
       ON CONFLICT (incident_id, dedupe_hash) DO UPDATE SET ${updates}, updated_at = now()
       RETURNING (xmax = 0) AS inserted)
     SELECT count(*) FILTER (WHERE inserted)::int AS created, count(*) FILTER (WHERE NOT inserted)::int AS updated
     FROM upserted`,
    [importId, incidentId],
  );
  return { ...(rows[0] ?? { created: 0, updated: 0 }), path: 'merge' };
}

const UNIQUE_VIOLATION = '23505';

/** Records that the import's valid rows were read and found to name distinct contacts. */
export async function markDistinctContacts(db: Queryable, importId: number): Promise<void> {
  await db.query('UPDATE imports SET distinct_contacts = true WHERE id = $1', [importId]);
}

export async function dropStagedRows(db: Queryable, importId: number): Promise<void> {
  await db.query('DELETE FROM import_rows WHERE import_id = $1', [importId]);
}
