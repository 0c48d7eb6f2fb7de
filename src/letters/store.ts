import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { OutgoingMessage } from '../channels/channel.js';
import type { RenderedNotice } from '../notices/render.js';
import type { LetterToPrint } from './pdf.js';
import type { Envelope } from './layout.js';

/** Keeps a letter for printing. A retried send overwrites the same row: one letter per message. */
export async function storeLetter(db: Queryable, vault: Vault, message: OutgoingMessage): Promise<void> {
  await db.query(
    `INSERT INTO letters (message_id, campaign_id, locale, large_print, recipient_enc, content_enc)
     SELECT m.id, m.campaign_id, $2, $3, $4, $5 FROM messages m WHERE m.id = $1
     ON CONFLICT (message_id) DO UPDATE SET locale = EXCLUDED.locale, large_print = EXCLUDED.large_print,
       recipient_enc = EXCLUDED.recipient_enc, content_enc = EXCLUDED.content_enc`,
    [
      message.messageId,
      message.locale,
      message.largePrint,
      vault.seal(JSON.stringify({ name: message.to.name, postalAddress: message.to.postalAddress })),
      vault.seal(JSON.stringify(message.content)),
    ],
  );
}

/** A campaign's letters in message order, decrypted for printing. */
export async function loadCampaignLetters(
  db: Queryable,
  vault: Vault,
  campaignId: number,
): Promise<LetterToPrint[]> {
  return loadLetters(db, vault, 'l.campaign_id = $1', campaignId);
}

/** One letter, for a preview. */
export async function loadLetter(
  db: Queryable,
  vault: Vault,
  messageId: number,
): Promise<LetterToPrint | null> {
  return (await loadLetters(db, vault, 'l.message_id = $1', messageId))[0] ?? null;
}

async function loadLetters(
  db: Queryable,
  vault: Vault,
  where: 'l.campaign_id = $1' | 'l.message_id = $1',
  id: number,
): Promise<LetterToPrint[]> {
  const { rows } = await db.query<{
    message_id: number;
    large_print: boolean;
    recipient_enc: string;
    content_enc: string;
    organisation_name: string;
  }>(
    `SELECT l.message_id, l.large_print, l.recipient_enc, l.content_enc, i.organisation_name
     FROM letters l JOIN campaigns c ON c.id = l.campaign_id JOIN incidents i ON i.id = c.incident_id
     WHERE ${where} ORDER BY l.message_id`,
    [id],
  );
  return rows.map((row) => {
    const to = JSON.parse(vault.open(row.recipient_enc)) as {
      name: string | null;
      postalAddress: string | null;
    };
    return {
      messageId: row.message_id,
      organisation: row.organisation_name,
      name: to.name,
      postalAddress: to.postalAddress ?? '',
      largePrint: row.large_print,
      content: JSON.parse(vault.open(row.content_enc)) as RenderedNotice,
    };
  });
}

export interface LetterBatch {
  campaignId: number;
  letters: number;
  envelope: Envelope;
  downloadedAt: Date;
  postedAt: Date | null;
  postedBy: number | null;
  postedByName: string | null;
}

interface BatchRow {
  campaign_id: number;
  letters: number;
  envelope: Envelope;
  downloaded_at: Date;
  posted_at: Date | null;
  posted_by: number | null;
  display_name: string | null;
}

function toBatch(row: BatchRow): LetterBatch {
  return {
    campaignId: row.campaign_id,
    letters: row.letters,
    envelope: row.envelope,
    downloadedAt: row.downloaded_at,
    postedAt: row.posted_at,
    postedBy: row.posted_by,
    postedByName: row.display_name,
  };
}

export async function findLetterBatch(db: Queryable, campaignId: number): Promise<LetterBatch | null> {
  const { rows } = await db.query<BatchRow>(
    `SELECT b.*, s.display_name FROM letter_batches b LEFT JOIN staff s ON s.id = b.posted_by
     WHERE b.campaign_id = $1`,
    [campaignId],
  );
  return rows[0] ? toBatch(rows[0]) : null;
}

/** How many of a campaign's letters are filed, and how many of them are posted. */
export async function countCampaignLetters(
  db: Queryable,
  campaignId: number,
): Promise<{ filed: number; posted: number }> {
  const { rows } = await db.query<{ filed: number; posted: number }>(
    `SELECT count(*)::int AS filed, count(posted_at)::int AS posted FROM letters WHERE campaign_id = $1`,
    [campaignId],
  );
  return rows[0] ?? { filed: 0, posted: 0 };
}

/** The batch PDF was made: its letters are printed (the ones filed later are not). */
export async function recordBatchDownload(
  db: Queryable,
  campaignId: number,
  messageIds: readonly number[],
  envelope: Envelope,
  at: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO letter_batches (campaign_id, letters, envelope, downloaded_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (campaign_id) DO UPDATE SET letters = EXCLUDED.letters, envelope = EXCLUDED.envelope,
       downloaded_at = EXCLUDED.downloaded_at`,
    [campaignId, messageIds.length, envelope, at],
  );
  await db.query(
    'UPDATE letters SET printed_at = COALESCE(printed_at, $2) WHERE message_id = ANY($1::bigint[])',
    [messageIds, at],
  );
}

/**
 * Staff say the printed batch went in the post. Records when and who on the batch, and the date on
 * each printed letter and on its message (`sent_at`: the proof of notice reads it). Marking twice
 * keeps the first date and the first person. Null when the batch was never downloaded.
 */
export async function markBatchPosted(
  db: Queryable,
  campaignId: number,
  staffId: number | null,
  at: Date,
): Promise<{ batch: LetterBatch; newlyPosted: number } | null> {
  const { rows } = await db.query<{ campaign_id: number }>(
    `UPDATE letter_batches SET posted_at = COALESCE(posted_at, $2), posted_by = COALESCE(posted_by, $3)
     WHERE campaign_id = $1 RETURNING campaign_id`,
    [campaignId, at, staffId],
  );
  if (!rows[0]) return null;
  const batch = (await findLetterBatch(db, campaignId))!;
  const posted = await db.query<{ message_id: number }>(
    `UPDATE letters SET posted_at = $2
     WHERE campaign_id = $1 AND printed_at IS NOT NULL AND posted_at IS NULL RETURNING message_id`,
    [campaignId, batch.postedAt],
  );
  // A letter goes out the day it is posted, not the day it was filed for printing.
  await db.query(
    `UPDATE messages SET sent_at = $2, updated_at = $3 WHERE id = ANY($1::bigint[]) AND channel = 'letter'`,
    [posted.rows.map((row) => row.message_id), batch.postedAt, at],
  );
  return { batch, newlyPosted: posted.rowCount ?? 0 };
}
