import type { Queryable } from '../platform/db.js';
import type { StatusDocument } from './documents.js';

interface DocumentRow {
  path: string;
  locale: string;
  version: number;
  status: number;
  location: string | null;
  content_type: string;
  etag: string;
  body: Buffer;
  body_gzip: Buffer;
  body_br: Buffer;
  published_at: Date;
}

function toDocument(row: DocumentRow): StatusDocument {
  return {
    path: row.path,
    locale: row.locale,
    version: row.version,
    status: row.status,
    location: row.location,
    contentType: row.content_type,
    etag: row.etag,
    body: row.body,
    gzip: row.body_gzip,
    br: row.body_br,
    publishedAt: row.published_at,
  };
}

/**
 * Publishes one at a time, across every process: each renders what it reads after taking the lock, so
 * a slower publish can never overwrite a newer one with older content. Held until the transaction ends.
 */
export async function lockStatusPublishing(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('candor:status-snapshot'))`);
}

export async function nextSnapshotVersion(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ version: number }>(
    `SELECT nextval('status_snapshot_versions') AS version`,
  );
  return rows[0]!.version;
}

export async function saveStatusDocuments(
  tx: Queryable,
  incidentId: number | null,
  documents: StatusDocument[],
): Promise<void> {
  for (const document of documents) {
    await tx.query(
      `INSERT INTO status_documents
         (path, locale, incident_id, version, status, location, content_type, etag, body, body_gzip, body_br, published_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (path, locale) DO UPDATE SET
         incident_id = EXCLUDED.incident_id, version = EXCLUDED.version, status = EXCLUDED.status,
         location = EXCLUDED.location, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag,
         body = EXCLUDED.body, body_gzip = EXCLUDED.body_gzip, body_br = EXCLUDED.body_br,
         published_at = EXCLUDED.published_at`,
      [
        document.path,
        document.locale,
        incidentId,
        document.version,
        document.status,
        document.location,
        document.contentType,
        document.etag,
        document.body,
        document.gzip,
        document.br,
        document.publishedAt,
      ],
    );
  }
}

/**
 * The page as last published, with the latest publish number read in the same statement: the page is
 * current as of that number, which tells a copy when it needs to look again.
 */
export async function findStatusDocument(
  db: Queryable,
  path: string,
  locale: string,
): Promise<{ document: StatusDocument; asOf: number } | null> {
  const { rows } = await db.query<DocumentRow & { as_of: number }>(
    `SELECT d.*, (SELECT max(version) FROM status_documents) AS as_of
     FROM status_documents d WHERE d.path = $1 AND d.locale = $2`,
    [path, locale],
  );
  return rows[0] ? { document: toDocument(rows[0]), asOf: rows[0].as_of } : null;
}

/** Everything published after `version`: what a copy that has reached `version` is missing. */
export async function listStatusDocumentsSince(db: Queryable, version: number): Promise<StatusDocument[]> {
  const { rows } = await db.query<DocumentRow>(
    'SELECT * FROM status_documents WHERE version > $1 ORDER BY version',
    [version],
  );
  return rows.map(toDocument);
}

export async function latestSnapshotVersion(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM status_documents',
  );
  return rows[0]?.version ?? 0;
}
