import crypto from 'node:crypto';
import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { Channel, Reachability } from '../channels/kinds.js';
import { formatReferenceCode, normalizeReferenceCode, REFERENCE_CODE_BYTES } from './reference-code.js';

/** A person as import and the API hand them over, already validated and normalized. */
export interface PersonInput {
  name: string | null;
  email: string | null;
  phone: string | null;
  postalAddress: string | null;
  postalCode: string | null;
  birthYear: number | null;
  locale: string;
  preferredChannel: Channel | null;
  accessibilityNeeds: string[];
  country: string | null;
  region: string | null;
  timeZone: string | null;
  segment: string | null;
  exposedDataTypes: string[];
  affected: boolean;
}

/** What a send needs about one person, decrypted. Lives only in memory for the length of a send. */
export interface Recipient {
  id: number;
  incidentId: number;
  referenceCode: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  postalAddress: string | null;
  locale: string;
  preferredChannel: Channel | null;
  accessibilityNeeds: string[];
  country: string | null;
  timeZone: string | null;
  segment: string | null;
  exposedDataTypes: string[];
  affected: boolean;
}

/** The key two rows must share to be the same person: their email, else phone, else name and address. */
export function dedupeKey(person: Pick<PersonInput, 'email' | 'phone' | 'name' | 'postalAddress'>): string {
  if (person.email) return `email:${person.email}`;
  if (person.phone) return `phone:${person.phone}`;
  return `post:${(person.name ?? '').trim().toLowerCase()}|${(person.postalAddress ?? '').trim().toLowerCase().replace(/\s+/g, ' ')}`;
}

/** A person's stored columns, in the order every writer (upsert here, the import's staging COPY) uses. */
export const PERSON_COLUMNS = [
  'dedupe_hash',
  'reference_hash',
  'reference_enc',
  'email_hash',
  'phone_hash',
  'postal_code_hash',
  'birth_year_hash',
  'name_enc',
  'email_enc',
  'phone_enc',
  'postal_address_enc',
  'locale',
  'preferred_channel',
  'accessibility_needs',
  'country',
  'region',
  'time_zone',
  'segment',
  'exposed_data_types',
  'affected',
] as const;

const COLUMNS = ['incident_id', ...PERSON_COLUMNS] as const;

export interface UpsertedPerson {
  id: number;
  /** Present only for people created by this call; a merged duplicate keeps the code it already had. */
  referenceCode: string | null;
}

/** Rows per INSERT in upsertPeople: 21 parameters each, under PostgreSQL's 65,535 a statement. */
const UPSERT_ROWS_PER_STATEMENT = 2_000;

/**
 * Inserts people, merging any whose contact is already on file for the incident: the later row's
 * details win, the reference code already printed on a notice stays. One statement per 2,000 people.
 */
export async function upsertPeople(
  db: Queryable,
  vault: Vault,
  incidentId: number,
  people: PersonInput[],
): Promise<UpsertedPerson[]> {
  if (people.length === 0) return [];
  // Two rows for one contact in the same batch would make PostgreSQL refuse the statement: the later row wins.
  const unique = [...new Map(people.map((person) => [dedupeKey(person), person])).values()];
  if (unique.length > UPSERT_ROWS_PER_STATEMENT) {
    // One statement takes at most 65,535 parameters (21 a row): larger lists go in pages, in order.
    const upserted: UpsertedPerson[] = [];
    for (let i = 0; i < unique.length; i += UPSERT_ROWS_PER_STATEMENT)
      upserted.push(
        ...(await upsertPeople(db, vault, incidentId, unique.slice(i, i + UPSERT_ROWS_PER_STATEMENT))),
      );
    return upserted;
  }
  const seal = (value: string | null) => (value === null ? null : vault.seal(value));
  const codes: string[] = [];
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (const person of unique) {
    const code = formatReferenceCode(crypto.randomBytes(REFERENCE_CODE_BYTES));
    codes.push(code);
    const row = [
      incidentId,
      vault.hash('dedupe', dedupeKey(person)),
      vault.hash('reference', normalizeReferenceCode(code)!),
      vault.seal(code),
      person.email ? vault.hash('email', person.email) : null,
      person.phone ? vault.hash('phone', person.phone) : null,
      person.postalCode ? vault.hash('postal_code', person.postalCode) : null,
      person.birthYear ? vault.hash('birth_year', String(person.birthYear)) : null,
      seal(person.name),
      seal(person.email),
      seal(person.phone),
      seal(person.postalAddress),
      person.locale,
      person.preferredChannel,
      person.accessibilityNeeds,
      person.country,
      person.region,
      person.timeZone,
      person.segment,
      person.exposedDataTypes,
      person.affected,
    ];
    tuples.push(`(${row.map((_, i) => `$${values.length + i + 1}`).join(', ')})`);
    values.push(...row);
  }
  const updates = COLUMNS.filter(
    (c) => !['incident_id', 'dedupe_hash', 'reference_hash', 'reference_enc'].includes(c),
  )
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  const { rows } = await db.query<{ id: number; reference_hash: Buffer }>(
    `INSERT INTO people (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
     ON CONFLICT (incident_id, dedupe_hash) DO UPDATE SET ${updates}, updated_at = now()
     RETURNING id, reference_hash`,
    values,
  );
  const codeByHash = new Map(
    codes.map((code) => [vault.hash('reference', normalizeReferenceCode(code)!).toString('hex'), code]),
  );
  return rows.map((row) => ({
    id: row.id,
    referenceCode: codeByHash.get(row.reference_hash.toString('hex')) ?? null,
  }));
}

/** The columns a send needs about a person (still encrypted), for queries that read them with other things. */
export const RECIPIENT_COLUMNS = [
  'id',
  'incident_id',
  'reference_enc',
  'name_enc',
  'email_enc',
  'phone_enc',
  'postal_address_enc',
  'locale',
  'preferred_channel',
  'accessibility_needs',
  'country',
  'time_zone',
  'segment',
  'exposed_data_types',
  'affected',
] as const;

export interface RecipientRow {
  id: number;
  incident_id: number;
  reference_enc: string;
  name_enc: string | null;
  email_enc: string | null;
  phone_enc: string | null;
  postal_address_enc: string | null;
  locale: string;
  preferred_channel: Channel | null;
  accessibility_needs: string[];
  country: string | null;
  time_zone: string | null;
  segment: string | null;
  exposed_data_types: string[];
  affected: boolean;
}

/**
 * Decrypts a person's row into what a send needs. An email needs no phone number or postal address,
 * and a batch of a thousand is spared opening them (`emailOnly`).
 */
export function toRecipient(vault: Vault, row: RecipientRow, emailOnly = false): Recipient {
  const open = (value: string | null) => (value === null ? null : vault.open(value));
  return {
    id: row.id,
    incidentId: row.incident_id,
    referenceCode: vault.open(row.reference_enc),
    name: open(row.name_enc),
    email: open(row.email_enc),
    phone: emailOnly ? null : open(row.phone_enc),
    postalAddress: emailOnly ? null : open(row.postal_address_enc),
    locale: row.locale,
    preferredChannel: row.preferred_channel,
    accessibilityNeeds: row.accessibility_needs,
    country: row.country,
    timeZone: row.time_zone,
    segment: row.segment,
    exposedDataTypes: row.exposed_data_types,
    affected: row.affected,
  };
}

export async function loadRecipient(
  db: Queryable,
  vault: Vault,
  personId: number,
): Promise<Recipient | null> {
  const { rows } = await db.query<RecipientRow>(
    `SELECT ${RECIPIENT_COLUMNS.join(', ')} FROM people WHERE id = $1`,
    [personId],
  );
  const row = rows[0];
  return row ? toRecipient(vault, row) : null;
}

/** What channel choice needs about a person, read without decrypting anything. */
export interface AudienceMember {
  id: number;
  locale: string;
  preferredChannel: Channel | null;
  accessibilityNeeds: string[];
  timeZone: string | null;
  reachable: Reachability;
}

/** Whether the person (table alias `alias`) has a number that texted STOP: an SQL boolean. */
export function smsOptedOutSql(alias: string): string {
  return `EXISTS (SELECT 1 FROM sms_opt_outs o WHERE o.phone_hash = ${alias}.phone_hash)`;
}

/** Read from `people p`. */
export const AUDIENCE_COLUMNS = `p.id, p.locale, p.preferred_channel, p.accessibility_needs, p.time_zone,
  p.email_enc IS NOT NULL AS has_email, p.phone_enc IS NOT NULL AS has_phone,
  p.postal_address_enc IS NOT NULL AS has_postal_address, ${smsOptedOutSql('p')} AS sms_opted_out`;

export interface AudienceRow {
  id: number;
  locale: string;
  preferred_channel: Channel | null;
  accessibility_needs: string[];
  time_zone: string | null;
  has_email: boolean;
  has_phone: boolean;
  has_postal_address: boolean;
  sms_opted_out: boolean;
}

export function toAudienceMember(row: AudienceRow): AudienceMember {
  return {
    id: row.id,
    locale: row.locale,
    preferredChannel: row.preferred_channel,
    accessibilityNeeds: row.accessibility_needs,
    timeZone: row.time_zone,
    reachable: {
      email: row.has_email,
      phone: row.has_phone,
      postalAddress: row.has_postal_address,
      smsOptedOut: row.sms_opted_out,
    },
  };
}

/** Which incident a person belongs to and their language: enough for a portal session. */
export async function findPersonScope(
  db: Queryable,
  personId: number,
): Promise<{ incidentId: number; locale: string } | null> {
  const { rows } = await db.query<{ incident_id: number; locale: string }>(
    'SELECT incident_id, locale FROM people WHERE id = $1',
    [personId],
  );
  return rows[0] ? { incidentId: rows[0].incident_id, locale: rows[0].locale } : null;
}

/** The incident's first person, for a template preview when staff name nobody. */
export async function firstPersonId(db: Queryable, incidentId: number): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM people WHERE incident_id = $1 ORDER BY id LIMIT 1',
    [incidentId],
  );
  return rows[0]?.id ?? null;
}
