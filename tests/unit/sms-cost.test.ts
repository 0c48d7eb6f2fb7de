import { describe, expect, it } from 'vitest';
import { smsCost } from '../../src/notices/sms.js';

describe('what an SMS costs', () => {
  it('fits 160 plain characters in one GSM-7 segment and splits the 161st into two', () => {
    expect(smsCost('a'.repeat(160))).toMatchObject({ encoding: 'GSM-7', segments: 1, characters: 160 });
    expect(smsCost('a'.repeat(161))).toMatchObject({ encoding: 'GSM-7', segments: 2 });
    expect(smsCost('a'.repeat(306)).segments).toBe(2);
    expect(smsCost('a'.repeat(307)).segments).toBe(3);
  });

  it('counts accented Latin from the GSM-7 table as GSM-7', () => {
    expect(smsCost('Léa, votre référence : è é ü ñ').encoding).toBe('GSM-7');
  });

  it('switches the whole text to UCS-2 for one character outside GSM-7, and names it', () => {
    const cost = smsCost(`${'a'.repeat(69)}’`);
    expect(cost).toMatchObject({ encoding: 'UCS-2', segments: 1, nonGsmCharacters: ['’'] });
    expect(smsCost(`${'a'.repeat(70)}’`).segments).toBe(2);
  });

  it('counts Chinese, Arabic and Hindi in UCS-2 segments of 70, then 67', () => {
    expect(smsCost('数'.repeat(70))).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(smsCost('数'.repeat(71)).segments).toBe(2);
    expect(smsCost('ب'.repeat(134)).segments).toBe(2);
    expect(smsCost('ब'.repeat(135)).segments).toBe(3);
  });

  it('counts the GSM-7 extension characters as two', () => {
    expect(smsCost('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(smsCost('€'.repeat(81)).segments).toBe(2);
  });
});
