import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { csvLine } from './csv.js';

const PAGE = 5_000;

export const PROOF_COLUMNS = [
  'reference',
  'campaign',
  'message_kind',
  'channel',
  'attempt',
  'status',
  'status_reason',
  'queued_at',
  'sent_at',
  'delivered_at',
  'failed_at',
] as const;
export const CONTACT_COLUMNS = ['name', 'email', 'phone', 'postal_address'] as const;

/**
 * Proof of notice: one line per message of an incident, oldest first, read a page at a time so a
 * million messages never sit in memory. Contact details are added only when `withContacts` (admins):
 * the record proves that a person was told, and the reference identifies them to the business.
 */
export async function* proofOfNoticeCsv(
  db: Queryable,
  vault: Vault,
  incidentId: number,
  options: { withContacts: boolean },
): AsyncGenerator<string> {
  yield csvLine([...PROOF_COLUMNS, ...(options.withContacts ? CONTACT_COLUMNS : [])]);
  let after = 0;
  for (;;) {
    const { rows } = await db.query<{
      id: number;
      reference_enc: string;
      campaign_id: number;
      kind: string;
      channel: string | null;
      attempt: number;
      status: string;
      status_reason: string | null;
      created_at: Date;
      sent_at: Date | null;
      delivered_at: Date | null;
      failed_at: Date | null;
      name_enc: string | null;
      email_enc: string | null;
      phone_enc: string | null;
      postal_address_enc: string | null;
    }>(
      `SELECT m.id, p.reference_enc, m.campaign_id, c.kind, m.channel, m.attempt, m.status, m.status_reason,
              m.created_at, m.sent_at, m.delivered_at, m.failed_at,
              ${options.withContacts ? 'p.name_enc, p.email_enc, p.phone_enc, p.postal_address_enc' : 'NULL AS name_enc, NULL AS email_enc, NULL AS phone_enc, NULL AS postal_address_enc'}
       FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN people p ON p.id = m.person_id
       WHERE c.incident_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3`,
      [incidentId, after, PAGE],
    );
    if (rows.length === 0) return;
    let chunk = '';
    for (const row of rows) {
      const open = (value: string | null) => (value ? vault.open(value) : null);
      chunk += csvLine([
        vault.open(row.reference_enc),
        row.campaign_id,
        row.kind,
        row.channel,
        row.attempt,
        row.status,
        row.status_reason,
        row.created_at,
        row.sent_at,
        row.delivered_at,
        row.failed_at,
        ...(options.withContacts
          ? [open(row.name_enc), open(row.email_enc), open(row.phone_enc), open(row.postal_address_enc)]
          : []),
      ]);
    }
    yield chunk;
    after = rows[rows.length - 1]!.id;
  }
}

export interface SummaryRow {
  country: string | null;
  channel: string | null;
  status: string;
  people: number;
}

/**
 * For a regulator: how many people, by country, channel and status, each counted once per campaign by
 * their latest attempt (a fallback from a bounced email to a letter counts as the letter).
 */
export async function regulatorSummary(db: Queryable, incidentId: number): Promise<SummaryRow[]> {
  const { rows } = await db.query<SummaryRow>(
    `SELECT latest.country, latest.channel, latest.status, count(*)::int AS people FROM (
       SELECT DISTINCT ON (m.campaign_id, m.person_id) p.country, m.channel, m.status
       FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN people p ON p.id = m.person_id
       WHERE c.incident_id = $1 ORDER BY m.campaign_id, m.person_id, m.attempt DESC
     ) latest GROUP BY 1, 2, 3 ORDER BY 1 NULLS LAST, 2 NULLS LAST, 3`,
    [incidentId],
  );
  return rows;
}
