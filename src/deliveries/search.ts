import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { normalizeReferenceCode } from '../people/reference-code.js';
import { csvLine } from '../exports/csv.js';
import { CONTACT_COLUMNS } from '../exports/proof-of-notice.js';
import { startOfDay, startOfNextDay, type DeliveryFilter } from './filter.js';

/**
 * What a support agent on the phone needs: the person behind the reference code on their letter,
 * and every message sent to them with its status. No contact details: the agent reads the channel
 * and status to the caller, never their address back to them.
 */
export interface DeliveryRecord {
  messageId: number;
  campaignId: number;
  kind: string;
  channel: string | null;
  attempt: number;
  locale: string;
  status: string;
  statusReason: string | null;
  createdAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  failedAt: Date | null;
}

export interface PersonDeliveries {
  personId: number;
  incidentId: number;
  referenceCode: string;
  locale: string;
  country: string | null;
  affected: boolean;
  deliveries: DeliveryRecord[];
}

/** A message as the delivery pages show it (messages m joined to campaigns c). */
interface MessageRow {
  id: number;
  campaign_id: number;
  kind: string;
  channel: string | null;
  attempt: number;
  locale: string;
  status: string;
  status_reason: string | null;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
}
const MESSAGE_COLUMNS = `m.id, m.campaign_id, c.kind, m.channel, m.attempt, m.locale, m.status, m.status_reason,
  m.created_at, m.sent_at, m.delivered_at, m.failed_at`;

function toDeliveryRecord(row: MessageRow): DeliveryRecord {
  return {
    messageId: row.id,
    campaignId: row.campaign_id,
    kind: row.kind,
    channel: row.channel,
    attempt: row.attempt,
    locale: row.locale,
    status: row.status,
    statusReason: row.status_reason,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
    failedAt: row.failed_at,
  };
}

export async function findDeliveriesByReference(
  db: Queryable,
  vault: Vault,
  referenceInput: string,
): Promise<PersonDeliveries | null> {
  const code = normalizeReferenceCode(referenceInput);
  if (!code) return null;
  const { rows: people } = await db.query<{
    id: number;
    incident_id: number;
    reference_enc: string;
    locale: string;
    country: string | null;
    affected: boolean;
  }>(
    'SELECT id, incident_id, reference_enc, locale, country, affected FROM people WHERE reference_hash = $1',
    [vault.hash('reference', code)],
  );
  const person = people[0];
  if (!person) return null;
  const { rows } = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS}
     FROM messages m JOIN campaigns c ON c.id = m.campaign_id
     WHERE m.person_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT 500`,
    [person.id],
  );
  return {
    personId: person.id,
    incidentId: person.incident_id,
    referenceCode: vault.open(person.reference_enc),
    locale: person.locale,
    country: person.country,
    affected: person.affected,
    deliveries: rows.map(toDeliveryRecord),
  };
}

/** One message in a filtered list: what a search page, its CSV and the API show. */
export interface DeliveryListItem extends DeliveryRecord {
  incidentId: number;
  personId: number;
  referenceCode: string;
  /** Only when asked for by someone allowed to see them (see the `people:contacts` permission). */
  contact?: {
    name: string | null;
    email: string | null;
    phone: string | null;
    postalAddress: string | null;
  };
}

export interface DeliveryPage {
  deliveries: DeliveryListItem[];
  /** The cursor of the next page (pass it as `before`), or null on the last page. */
  next: number | null;
}

/**
 * The deliveries a filter asks for, newest first, a page at a time by keyset on the message id (a
 * stable order however many messages arrive while someone pages). The console's list, its CSV and
 * the API's list all read through here.
 */
export async function searchDeliveries(
  db: Queryable,
  vault: Vault,
  input: { filter: DeliveryFilter; before: number | null; limit: number; withContacts: boolean },
): Promise<DeliveryPage> {
  const { filter } = input;
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.incidentId !== null) where.push(`c.incident_id = ${param(filter.incidentId)}`);
  if (filter.campaignId !== null) where.push(`m.campaign_id = ${param(filter.campaignId)}`);
  if (filter.status !== null) where.push(`m.status = ${param(filter.status)}`);
  if (filter.channel === 'none') where.push('m.channel IS NULL');
  else if (filter.channel !== null) where.push(`m.channel = ${param(filter.channel)}`);
  if (filter.locale !== null) where.push(`m.locale = ${param(filter.locale)}`);
  if (filter.from !== null) where.push(`m.created_at >= ${param(startOfDay(filter.from))}`);
  if (filter.to !== null) where.push(`m.created_at < ${param(startOfNextDay(filter.to))}`);
  if (input.before !== null) where.push(`m.id < ${param(input.before)}`);
  const contacts = input.withContacts
    ? 'p.name_enc, p.email_enc, p.phone_enc, p.postal_address_enc'
    : 'NULL AS name_enc, NULL AS email_enc, NULL AS phone_enc, NULL AS postal_address_enc';
  const { rows } = await db.query<
    MessageRow & {
      incident_id: number;
      person_id: number;
      reference_enc: string;
      name_enc: string | null;
      email_enc: string | null;
      phone_enc: string | null;
      postal_address_enc: string | null;
    }
  >(
    `SELECT ${MESSAGE_COLUMNS}, c.incident_id, m.person_id, p.reference_enc, ${contacts}
     FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN people p ON p.id = m.person_id
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY m.id DESC LIMIT ${param(input.limit + 1)}`,
    params,
  );
  const open = (value: string | null) => (value ? vault.open(value) : null);
  const page = rows.slice(0, input.limit);
  return {
    deliveries: page.map((row) => ({
      ...toDeliveryRecord(row),
      incidentId: row.incident_id,
      personId: row.person_id,
      referenceCode: vault.open(row.reference_enc),
      ...(input.withContacts
        ? {
            contact: {
              name: open(row.name_enc),
              email: open(row.email_enc),
              phone: open(row.phone_enc),
              postalAddress: open(row.postal_address_enc),
            },
          }
        : {}),
    })),
    next: rows.length > input.limit ? Number(page[page.length - 1]!.id) : null,
  };
}

export const DELIVERY_CSV_COLUMNS = [
  'message',
  'reference',
  'incident',
  'campaign',
  'message_kind',
  'channel',
  'attempt',
  'language',
  'status',
  'status_reason',
  'queued_at',
  'sent_at',
  'delivered_at',
  'failed_at',
] as const;

/**
 * Every delivery a filter matches, as CSV, read through `searchDeliveries` a page at a time so a
 * million rows never sit in memory. Contact columns only `withContacts`; cells are guarded against
 * spreadsheet formulas by `csvLine`, as in the other exports.
 */
export async function* deliveriesCsv(
  db: Queryable,
  vault: Vault,
  input: { filter: DeliveryFilter; withContacts: boolean },
): AsyncGenerator<string> {
  yield csvLine([...DELIVERY_CSV_COLUMNS, ...(input.withContacts ? CONTACT_COLUMNS : [])]);
  let before: number | null = null;
  for (;;) {
    const page = await searchDeliveries(db, vault, { ...input, before, limit: 5_000 });
    let chunk = '';
    for (const d of page.deliveries)
      chunk += csvLine([
        d.messageId,
        d.referenceCode,
        d.incidentId,
        d.campaignId,
        d.kind,
        d.channel,
        d.attempt,
        d.locale,
        d.status,
        d.statusReason,
        d.createdAt,
        d.sentAt,
        d.deliveredAt,
        d.failedAt,
        ...(d.contact ? [d.contact.name, d.contact.email, d.contact.phone, d.contact.postalAddress] : []),
      ]);
    if (chunk) yield chunk;
    if (page.next === null) return;
    before = page.next;
  }
}
