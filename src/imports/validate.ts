import { ACCESSIBILITY_NEEDS } from '../campaigns/channel-policy.js';
import { isChannel } from '../channels/kinds.js';
import type { PersonInput } from '../people/store.js';
import {
  normalizeEmail,
  normalizeLanguageTag,
  normalizePhone,
  normalizePostalCode,
} from '../people/contact.js';
import { looksLikeContact, maskEmail, maskPhone, maskText } from '../people/mask.js';
import { DATA_TYPES } from '../incidents/data-types.js';
import { isSimulatedEmail, isSimulatedPhone } from '../channels/simulated-recipients.js';

/**
 * What an import row may say, and how each value is checked and normalized. Pure: the import streams
 * rows through here, and the same rules serve the API's JSON people.
 */
export const IMPORT_COLUMNS = [
  'name',
  'email',
  'phone',
  'postal_address',
  'postal_code',
  'birth_year',
  'language',
  'preferred_channel',
  'accessibility_needs',
  'country',
  'region',
  'time_zone',
  'segment',
  'exposed_data_types',
  'affected',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Reason codes, stable for the API and the error CSV; the console translates them (`console:imports.reasons.*`). */
export type RowProblem =
  | 'no_contact'
  | 'email_invalid'
  | 'phone_invalid'
  | 'language_invalid'
  | 'channel_invalid'
  | 'accessibility_invalid'
  | 'country_invalid'
  | 'time_zone_invalid'
  | 'birth_year_invalid'
  | 'data_type_invalid'
  | 'affected_invalid'
  | 'name_too_long'
  | 'segment_invalid'
  | 'wrong_number_of_columns'
  | 'value_too_long'
  /** A simulated recipient (README "Rehearsing") while a real provider would send to it. */
  | 'email_simulated'
  | 'phone_simulated';

export interface RowError {
  /** The row as a spreadsheet numbers it: the header is row 1 (for JSON people, the 1-based position). */
  line: number;
  column: ImportColumn | null;
  reason: RowProblem;
  /** The offending value as staff may see it: contact details and names masked; null when none helps. */
  value: string | null;
}

const PERSONAL_COLUMNS: ReadonlySet<ImportColumn> = new Set([
  'name',
  'postal_address',
  'postal_code',
  'birth_year',
]);
const SHOWN_LENGTH = 40;

/**
 * What the error list shows of a bad value: the value itself where it is a language, a channel, a
 * zone or a list of codes, so the typo can be found; masked where it belongs to a person.
 */
export function shownValue(column: ImportColumn | null, raw: string): string | null {
  const value = raw.trim();
  if (column === null || value === '') return null;
  if (value.length > MAX_CELL) return null;
  if (column === 'email') return maskEmail(value);
  if (column === 'phone') return maskPhone(value);
  if (PERSONAL_COLUMNS.has(column)) return maskText(value);
  // A contact pasted into the wrong column is still a contact.
  const contact = looksLikeContact(value);
  if (contact === 'email') return maskEmail(value);
  if (contact === 'phone') return maskPhone(value);
  return value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}…` : value;
}

export type HeaderProblem = 'unknown_column' | 'duplicate_column' | 'no_contact_column' | 'empty_file';

/** Maps the header row to known columns; column names are matched ignoring case, spaces and dashes. */
export function readHeader(
  cells: readonly string[],
): { ok: true; columns: (ImportColumn | null)[] } | { ok: false; problem: HeaderProblem; column?: string } {
  const columns: ImportColumn[] = [];
  for (const cell of cells) {
    const name = cell
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name))
      return { ok: false, problem: 'unknown_column', column: cell.slice(0, 60) };
    if (columns.includes(name as ImportColumn))
      return { ok: false, problem: 'duplicate_column', column: name };
    columns.push(name as ImportColumn);
  }
  if (!columns.some((column) => column === 'email' || column === 'phone' || column === 'postal_address'))
    return { ok: false, problem: 'no_contact_column' };
  return { ok: true, columns };
}

/**
 * Whether the runtime knows this IANA zone, aliases included: `Intl.supportedValuesOf` lists only
 * canonical names, and Node 20's ICU still calls India's zone Asia/Calcutta, not Asia/Kolkata.
 */
function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
/**
 * A file holds a handful of languages and zones in a million rows: each distinct text is checked once
 * (`Intl` is slow to ask), and the memo is dropped if a file is strange enough to fill it.
 */
function memo<T>(check: (text: string) => T): (text: string) => T {
  const known = new Map<string, T>();
  return (text) => {
    let answer = known.get(text);
    if (answer === undefined && !known.has(text)) {
      if (known.size >= 1_000) known.clear();
      answer = check(text);
      known.set(text, answer);
    }
    return answer as T;
  };
}
const languageTag = memo(normalizeLanguageTag);
const knownTimeZone = memo(isKnownTimeZone);

const YES = new Set(['', 'yes', 'y', 'true', '1']);
const NO = new Set(['no', 'n', 'false', '0']);
const MAX_CELL = 2_000;

function list(value: string): string[] {
  return value
    .split(/[;|,]/)
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Which simulated contacts an import takes: those the configured providers simulate. With a real
 * provider, a `.invalid` address is a certain hard bounce (which costs the sender's reputation) and
 * a fictional number a certain failure, so they are refused rather than sent.
 */
export interface SimulatedContacts {
  email: boolean;
  phone: boolean;
}

/** Simulated email needs the sandbox email provider; a simulated phone, sandbox SMS and calls both. */
export function simulatedContactsAllowed(providers: {
  email: { provider: string };
  sms: { provider: string };
  voice: { provider: string };
}): SimulatedContacts {
  return {
    email: providers.email.provider === 'sandbox',
    phone: providers.sms.provider === 'sandbox' && providers.voice.provider === 'sandbox',
  };
}

export function validateRow(
  record: Partial<Record<ImportColumn, string>>,
  line: number,
  options: { defaultLocale: string; currentYear: number; simulated: SimulatedContacts },
): { ok: true; person: PersonInput } | { ok: false; errors: RowError[] } {
  const errors: RowError[] = [];
  const problem = (column: ImportColumn | null, reason: RowProblem) =>
    errors.push({ line, column, reason, value: column ? shownValue(column, record[column] ?? '') : null });
  const cell = (column: ImportColumn) => {
    const value = (record[column] ?? '').trim();
    if (value.length > MAX_CELL) {
      problem(column, 'value_too_long');
      return '';
    }
    return value;
  };

  const name = cell('name');
  if (name.length > 200) problem('name', 'name_too_long');

  const countryText = cell('country').toUpperCase();
  const country = countryText === '' ? null : /^[A-Z]{2}$/.test(countryText) ? countryText : null;
  if (countryText !== '' && !country) problem('country', 'country_invalid');

  const emailText = cell('email');
  const email = emailText ? normalizeEmail(emailText) : null;
  if (emailText && !email) problem('email', 'email_invalid');
  if (email && !options.simulated.email && isSimulatedEmail(email)) problem('email', 'email_simulated');

  const phoneText = cell('phone');
  const phone = phoneText ? normalizePhone(phoneText, country ?? undefined) : null;
  if (phoneText && !phone) problem('phone', 'phone_invalid');
  if (phone && !options.simulated.phone && isSimulatedPhone(phone)) problem('phone', 'phone_simulated');

  const postalAddress = cell('postal_address').replace(/\r\n?/g, '\n') || null;
  if (!emailText && !phoneText && !postalAddress) problem(null, 'no_contact');

  const languageText = cell('language');
  const locale = languageText ? languageTag(languageText) : options.defaultLocale;
  if (!locale) problem('language', 'language_invalid');

  const channelText = cell('preferred_channel').toLowerCase();
  const preferredChannel = channelText === '' ? null : isChannel(channelText) ? channelText : null;
  if (channelText !== '' && !preferredChannel) problem('preferred_channel', 'channel_invalid');

  const needs = list(cell('accessibility_needs'));
  if (needs.some((need) => !(ACCESSIBILITY_NEEDS as readonly string[]).includes(need)))
    problem('accessibility_needs', 'accessibility_invalid');

  const timeZoneText = cell('time_zone');
  if (timeZoneText && !knownTimeZone(timeZoneText)) problem('time_zone', 'time_zone_invalid');

  const birthYearText = cell('birth_year');
  const birthYear = birthYearText === '' ? null : Number(birthYearText);
  if (
    birthYear !== null &&
    (!/^\d{4}$/.test(birthYearText) || birthYear < 1900 || birthYear > options.currentYear)
  )
    problem('birth_year', 'birth_year_invalid');

  const dataTypes = list(cell('exposed_data_types'));
  if (dataTypes.some((type) => !(DATA_TYPES as readonly string[]).includes(type)))
    problem('exposed_data_types', 'data_type_invalid');

  const affectedText = cell('affected').toLowerCase();
  if (!YES.has(affectedText) && !NO.has(affectedText)) problem('affected', 'affected_invalid');

  const segment = cell('segment');
  if (segment && !/^[A-Za-z0-9_-]{1,50}$/.test(segment)) problem('segment', 'segment_invalid');

  if (errors.length > 0) return { ok: false, errors };
  const postalCode = cell('postal_code');
  return {
    ok: true,
    person: {
      name: name || null,
      email,
      phone,
      postalAddress,
      postalCode: postalCode ? normalizePostalCode(postalCode) : null,
      birthYear,
      locale: locale!,
      preferredChannel,
      accessibilityNeeds: [...new Set(needs)],
      country,
      region: cell('region') || null,
      timeZone: timeZoneText || null,
      segment: segment || null,
      exposedDataTypes: [...new Set(dataTypes)],
      affected: !NO.has(affectedText),
    },
  };
}
