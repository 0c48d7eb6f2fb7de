/**
 * The kinds of personal data an incident can expose, as stored and as staff pick them: one list for
 * the incident editor, the import, and the texts in `locales/<lang>/common.json` (`dataTypes.*`).
 */
export const DATA_TYPES = [
  'names',
  'email_addresses',
  'postal_addresses',
  'phone_numbers',
  'payment_cards',
  'bank_accounts',
  'national_ids',
  'dates_of_birth',
  'passwords',
  'health_data',
] as const;
export type DataType = (typeof DATA_TYPES)[number];
