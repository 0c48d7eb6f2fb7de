import { describe, expect, it } from 'vitest';
import { normalizeEmail, normalizeLanguageTag, normalizePhone } from '../../src/people/contact.js';
import { dedupeKey } from '../../src/people/store.js';

describe('contact normalization', () => {
  it('lower-cases and trims emails and rejects what is not one', () => {
    expect(normalizeEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normalizeEmail('not an email')).toBeNull();
  });

  it('turns national and international phone numbers into E.164', () => {
    expect(normalizePhone('07400 123456', 'GB')).toBe('+447400123456');
    expect(normalizePhone('+33 6 12 34 56 78')).toBe('+33612345678');
    expect(normalizePhone('12')).toBeNull();
  });

  it('canonicalizes language tags', () => {
    expect(normalizeLanguageTag('pt-br')).toBe('pt-BR');
    expect(normalizeLanguageTag('zh-hans')).toBe('zh-Hans');
    expect(normalizeLanguageTag('not a tag!')).toBeNull();
  });

  it('merges people by email first, then phone, then name and address', () => {
    expect(dedupeKey({ email: 'a@b.c', phone: '+1', name: null, postalAddress: null })).toBe('email:a@b.c');
    expect(dedupeKey({ email: null, phone: '+447400123456', name: null, postalAddress: null })).toBe(
      'phone:+447400123456',
    );
    expect(dedupeKey({ email: null, phone: null, name: 'Ada  ', postalAddress: '1 High St' })).toBe(
      dedupeKey({ email: null, phone: null, name: 'ada', postalAddress: '1  high st' }),
    );
  });
});
