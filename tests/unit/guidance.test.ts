import { describe, expect, it } from 'vitest';
import { selectGuidance } from '../../src/guidance/select.js';
import { regionOf } from '../../src/guidance/library.js';

const ids = (dataTypes: string[], country: string | null) =>
  selectGuidance({ dataTypes, country }).items.map((item) => item.id);

describe('guidance selection', () => {
  it('tells someone whose card was taken to call their bank first, and always warns about fake messages', () => {
    const items = ids(['names', 'payment_cards'], 'GB');
    expect(items[0]).toBe('paymentCards');
    expect(items.at(-1)).toBe('phishing');
    expect(items).not.toContain('ukCreditReports');
  });

  it('sends an American with an exposed Social Security number to all three bureaus and the IRS', () => {
    const guidance = selectGuidance({ dataTypes: ['names', 'national_ids'], country: 'us' });
    expect(guidance.region).toBe('US');
    const freeze = guidance.items.find((item) => item.id === 'usCreditFreeze');
    expect(freeze?.resources.map((resource) => resource.id)).toEqual([
      'equifaxUs',
      'experianUs',
      'transunionUs',
    ]);
    expect(guidance.items.map((item) => item.id)).toEqual(
      expect.arrayContaining(['usFraudAlert', 'usIdentityTheft', 'usTaxPin']),
    );
  });

  it('gives UK, Canadian and EU residents their own bureaus and fraud reporting', () => {
    expect(ids(['dates_of_birth'], 'GB')).toEqual(
      expect.arrayContaining(['ukCreditReports', 'ukProtectiveRegistration', 'ukReportFraud']),
    );
    expect(ids(['national_ids'], 'CA')).toEqual(
      expect.arrayContaining(['caFraudAlert', 'caReportFraud', 'caSin']),
    );
    expect(ids(['bank_accounts'], 'DE')).toEqual(
      expect.arrayContaining(['bankAccounts', 'euCreditReports', 'euReportFraud', 'euDataProtection']),
    );
  });

  it('falls back to general advice for a country without its own library, or none on file', () => {
    expect(ids(['national_ids'], 'JP')).toEqual(['generalCreditReports', 'generalReportFraud', 'phishing']);
    expect(selectGuidance({ dataTypes: ['national_ids'], country: null }).region).toBe('general');
  });

  it('asks for a password change when passwords were taken, and nothing about credit for an email alone', () => {
    expect(ids(['passwords', 'email_addresses'], 'FR')).toEqual(['passwords', 'phishing']);
    expect(ids(['email_addresses'], 'US')).toEqual(['phishing']);
  });

  it('points phishing reports to the national service where there is one', () => {
    const phishing = selectGuidance({ dataTypes: [], country: 'GB' }).items.find(
      (item) => item.id === 'phishing',
    );
    expect(phishing?.resources[0]?.url).toMatch(/^https:\/\/www\.ncsc\.gov\.uk\//);
  });

  it('reads countries in any case and knows the EU members, Greece as GR or EL', () => {
    expect(regionOf('gr')).toBe('EU');
    expect(regionOf('EL')).toBe('EU');
    expect(regionOf('uk')).toBe('UK');
    expect(regionOf('CH')).toBe('general');
    expect(regionOf('  ')).toBe('general');
  });
});
