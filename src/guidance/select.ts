import {
  GENERAL_ITEMS,
  IDENTITY_ITEMS,
  NATIONAL_ID_ITEMS,
  PHISHING_RESOURCES,
  RESOURCES,
  regionOf,
  type GuidanceItemDefinition,
  type GuidanceRegion,
  type Resource,
} from './library.js';

export interface GuidanceItem {
  /** `guidance:items.<id>.title` and `.body`. */
  id: string;
  resources: Resource[];
}

export interface Guidance {
  region: GuidanceRegion;
  items: GuidanceItem[];
}

function resolve(definition: GuidanceItemDefinition, extra: readonly string[] = []): GuidanceItem {
  const ids = [...definition.resources, ...extra] as (keyof typeof RESOURCES)[];
  return { id: definition.id, resources: [...new Set(ids)].map((id) => ({ id, url: RESOURCES[id] })) };
}

/**
 * What this person should do, most urgent first: money (cards, bank), then accounts (passwords), then
 * identity and credit with the bureaus of their country, then scams that use what was taken. Pure.
 */
export function selectGuidance(person: {
  dataTypes: readonly string[];
  country: string | null | undefined;
}): Guidance {
  const region = regionOf(person.country);
  const types = new Set(person.dataTypes);
  const items: GuidanceItem[] = [];

  if (types.has('payment_cards')) items.push(resolve(GENERAL_ITEMS.paymentCards));
  if (types.has('bank_accounts')) items.push(resolve(GENERAL_ITEMS.bankAccounts));
  if (types.has('passwords')) items.push(resolve(GENERAL_ITEMS.passwords));

  // Enough to open credit in someone's name: an identity number, a date of birth, or bank details.
  const identityAtRisk =
    types.has('national_ids') || types.has('dates_of_birth') || types.has('bank_accounts');
  if (identityAtRisk) {
    items.push(...IDENTITY_ITEMS[region].map((definition) => resolve(definition)));
    const nationalIdStep = NATIONAL_ID_ITEMS[region];
    if (types.has('national_ids') && nationalIdStep) items.push(resolve(nationalIdStep));
  }

  if (types.has('health_data')) items.push(resolve(GENERAL_ITEMS.healthData));
  if (types.has('phone_numbers')) items.push(resolve(GENERAL_ITEMS.phoneNumbers));
  // Whatever was taken, criminals use the news of a breach to send convincing fakes.
  items.push(resolve(GENERAL_ITEMS.phishing, PHISHING_RESOURCES[region] ?? []));

  return { region, items };
}
