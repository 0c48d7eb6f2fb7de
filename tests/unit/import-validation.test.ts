import { describe, expect, it } from 'vitest';
import { readHeader, shownValue, simulatedContactsAllowed, validateRow } from '../../src/imports/validate.js';

const options = { defaultLocale: 'en', currentYear: 2026, simulated: { email: true, phone: true } };

describe('import row validation', () => {
  it('accepts a time zone by its current name even where the runtime knows it by an older one', () => {
    const result = validateRow({ email: 'priya@example.in', time_zone: 'Asia/Kolkata' }, 2, options);
    expect(result.ok).toBe(true);
  });

  it('normalizes a good row: email case, national phone to E.164, language tag, lists', () => {
    const result = validateRow(
      {
        name: ' Ada Martin ',
        email: 'Ada.Martin@Example.COM',
        phone: '07400 123456',
        country: 'gb',
        language: 'pt-br',
        preferred_channel: 'SMS',
        accessibility_needs: 'large_print; visually_impaired',
        exposed_data_types: 'names;payment_cards',
        time_zone: 'Europe/London',
        birth_year: '1980',
        postal_code: 'bs1 4xx',
        affected: 'no',
      },
      2,
      options,
    );
    expect(result.ok).toBe(true);
    expect(result.ok && result.person).toMatchObject({
      name: 'Ada Martin',
      email: 'ada.martin@example.com',
      phone: '+447400123456',
      country: 'GB',
      locale: 'pt-BR',
      preferredChannel: 'sms',
      accessibilityNeeds: ['large_print', 'visually_impaired'],
      exposedDataTypes: ['names', 'payment_cards'],
      birthYear: 1980,
      postalCode: 'BS14XX',
      affected: false,
    });
  });

  it('names every problem in a row with its row, column and value, masking what belongs to a person', () => {
    const result = validateRow(
      { email: 'not-an-email', phone: '12', language: '??', birth_year: '80', time_zone: 'Mars/Olympus' },
      7,
      options,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      { line: 7, column: 'email', reason: 'email_invalid', value: 'n•••' },
      { line: 7, column: 'phone', reason: 'phone_invalid', value: '••' },
      { line: 7, column: 'language', reason: 'language_invalid', value: '??' },
      { line: 7, column: 'time_zone', reason: 'time_zone_invalid', value: 'Mars/Olympus' },
      { line: 7, column: 'birth_year', reason: 'birth_year_invalid', value: '8•••' },
    ]);
    expect(JSON.stringify(result.errors)).not.toContain('not-an-email');
  });

  it('masks a contact detail but shows enough of it to find the typo', () => {
    expect(shownValue('email', 'jane.doe@example.com')).toBe('j•••@e•••.com');
    expect(shownValue('email', 'jane.doe@@example.com')).toBe('j•••@e•••.com');
    expect(shownValue('phone', '+44 7700 900112')).toBe('+44 •••• ••••12');
    expect(shownValue('phone', '07700 90011x')).toBe('••••• •••11x');
    expect(shownValue('name', 'Ada Lovelace')).toBe('A•••');
    expect(shownValue('postal_address', '12 Harbour Street')).toBe('1•••');
    // A contact put in the wrong column is masked all the same.
    expect(shownValue('language', 'ada@example.org')).toBe('a•••@e•••.org');
    expect(shownValue('segment', '+44 7700 900112')).toBe('+44 •••• ••••12');
    expect(shownValue('preferred_channel', 'carrier pigeon')).toBe('carrier pigeon');
    expect(shownValue('exposed_data_types', 'x'.repeat(60))).toBe(`${'x'.repeat(40)}…`);
    expect(shownValue(null, 'anything')).toBeNull();
  });

  it('refuses a row with no way to reach the person', () => {
    expect(validateRow({ name: 'Nobody' }, 3, options)).toEqual({
      ok: false,
      errors: [{ line: 3, column: null, reason: 'no_contact', value: null }],
    });
  });

  it('uses the incident language when a row gives none, and reads an address alone as enough', () => {
    const result = validateRow({ postal_address: '1 High St\r\nBristol' }, 4, {
      ...options,
      defaultLocale: 'fr',
    });
    expect(result.ok && result.person.locale).toBe('fr');
    expect(result.ok && result.person.postalAddress).toBe('1 High St\nBristol');
  });

  it('matches header names loosely but refuses unknown or repeated columns', () => {
    expect(readHeader(['Email', 'Postal Address', 'preferred-channel'])).toEqual({
      ok: true,
      columns: ['email', 'postal_address', 'preferred_channel'],
    });
    expect(readHeader(['email', 'fone'])).toEqual({ ok: false, problem: 'unknown_column', column: 'fone' });
    expect(readHeader(['email', 'EMAIL'])).toEqual({
      ok: false,
      problem: 'duplicate_column',
      column: 'email',
    });
    expect(readHeader(['name'])).toEqual({ ok: false, problem: 'no_contact_column' });
  });

  it('takes simulated recipients only where the provider is the sandbox, which simulates them', () => {
    const row = { email: 'bounce+1@simulator.candor.invalid', phone: '+44 7700 900100' };
    expect(validateRow(row, 5, options).ok).toBe(true);
    expect(validateRow(row, 5, { ...options, simulated: { email: false, phone: false } })).toEqual({
      ok: false,
      errors: [
        { line: 5, column: 'email', reason: 'email_simulated', value: 'b•••@s•••.invalid' },
        { line: 5, column: 'phone', reason: 'phone_simulated', value: '+44 •••• ••••00' },
      ],
    });
    // Real customers' contacts go through with any provider.
    const real = { email: 'ada@example.com', phone: '+44 7400 123456' };
    expect(validateRow(real, 6, { ...options, simulated: { email: false, phone: false } }).ok).toBe(true);
  });

  it('allows simulated phones only when both SMS and calls are on the sandbox', () => {
    const sandbox = { provider: 'sandbox' };
    expect(simulatedContactsAllowed({ email: sandbox, sms: sandbox, voice: { provider: 'twilio' } })).toEqual(
      { email: true, phone: false },
    );
    expect(
      simulatedContactsAllowed({ email: { provider: 'sendgrid' }, sms: sandbox, voice: sandbox }),
    ).toEqual({
      email: false,
      phone: true,
    });
  });
});
