import { EU_MEMBER_STATES } from '../platform/countries.js';

/**
 * The curated guidance library: which advice applies to which exposed data, per region, and the
 * official places to act. The words live in `locales/<lang>/guidance.json` (`items.<id>.title/body`,
 * `resources.<id>`); this file holds only what does not change with the language: the rules and URLs.
 */
export const GUIDANCE_REGIONS = ['US', 'UK', 'CA', 'EU', 'general'] as const;
export type GuidanceRegion = (typeof GUIDANCE_REGIONS)[number];

export interface Resource {
  /** `guidance:resources.<id>` names it in the reader's language. */
  id: string;
  url: string;
}

// Official or statutory services only: the bureaus themselves, governments, the police.
export const RESOURCES = {
  identityTheftGov: 'https://www.identitytheft.gov/',
  ftcReportFraud: 'https://reportfraud.ftc.gov/',
  equifaxUs: 'https://www.equifax.com/personal/credit-report-services/',
  experianUs: 'https://www.experian.com/freeze/center.html',
  transunionUs: 'https://www.transunion.com/credit-freeze',
  irsIpPin: 'https://www.irs.gov/identity-theft-fraud-scams/get-an-identity-protection-pin',
  actionFraud: 'https://www.actionfraud.police.uk/',
  cifasProtectiveRegistration: 'https://www.cifas.org.uk/pr',
  experianUk: 'https://www.experian.co.uk/',
  equifaxUk: 'https://www.equifax.co.uk/',
  transunionUk: 'https://www.transunion.co.uk/',
  ncscReportPhishing: 'https://www.ncsc.gov.uk/collection/phishing-scams/report-scam-email',
  canadianAntiFraudCentre: 'https://antifraudcentre-centreantifraude.ca/',
  equifaxCa: 'https://www.consumer.equifax.ca/',
  transunionCa: 'https://www.transunion.ca/',
  serviceCanadaSin: 'https://www.canada.ca/en/employment-social-development/services/sin.html',
  edpbMembers: 'https://www.edpb.europa.eu/about-edpb/about-edpb/members_en',
} as const satisfies Record<string, string>;
export type ResourceId = keyof typeof RESOURCES;

export interface GuidanceItemDefinition {
  id: string;
  resources: ResourceId[];
}

const item = (id: string, resources: ResourceId[] = []): GuidanceItemDefinition => ({ id, resources });

/** Advice about a kind of data, the same everywhere. */
export const GENERAL_ITEMS = {
  paymentCards: item('paymentCards'),
  bankAccounts: item('bankAccounts'),
  passwords: item('passwords'),
  healthData: item('healthData'),
  phoneNumbers: item('phoneNumbers'),
  phishing: item('phishing'),
} as const;

/** Protecting your identity and credit: who to call depends on where you live. */
export const IDENTITY_ITEMS: Record<GuidanceRegion, GuidanceItemDefinition[]> = {
  US: [
    item('usCreditFreeze', ['equifaxUs', 'experianUs', 'transunionUs']),
    item('usFraudAlert', ['equifaxUs']),
    item('usIdentityTheft', ['identityTheftGov', 'ftcReportFraud']),
  ],
  UK: [
    item('ukCreditReports', ['experianUk', 'equifaxUk', 'transunionUk']),
    item('ukProtectiveRegistration', ['cifasProtectiveRegistration']),
    item('ukReportFraud', ['actionFraud']),
  ],
  CA: [
    item('caFraudAlert', ['equifaxCa', 'transunionCa']),
    item('caReportFraud', ['canadianAntiFraudCentre']),
  ],
  EU: [item('euCreditReports'), item('euReportFraud'), item('euDataProtection', ['edpbMembers'])],
  general: [item('generalCreditReports'), item('generalReportFraud')],
};

/** A national ID number needs its own step in some places. */
export const NATIONAL_ID_ITEMS: Partial<Record<GuidanceRegion, GuidanceItemDefinition>> = {
  US: item('usTaxPin', ['irsIpPin']),
  CA: item('caSin', ['serviceCanadaSin']),
};

/** Where to report a phishing message, when the country has one place for it. */
export const PHISHING_RESOURCES: Partial<Record<GuidanceRegion, ResourceId[]>> = {
  US: ['ftcReportFraud'],
  UK: ['ncscReportPhishing'],
  CA: ['canadianAntiFraudCentre'],
};

/** The region whose advice fits a country (ISO 3166-1 alpha-2), or the general advice. */
export function regionOf(country: string | null | undefined): GuidanceRegion {
  const code = country?.trim().toUpperCase();
  if (!code) return 'general';
  if (code === 'US' || code === 'PR' || code === 'GU' || code === 'VI') return 'US';
  if (code === 'GB' || code === 'UK') return 'UK';
  if (code === 'CA') return 'CA';
  if (EU_MEMBER_STATES.has(code)) return 'EU';
  return 'general';
}
