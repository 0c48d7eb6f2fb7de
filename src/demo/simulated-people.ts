import type { PersonInput } from '../people/store.js';

const ADDRESS = (number: number) => `${number} Harbour Street\nBristol BS1 4XX\nUnited Kingdom`;

function simulated(name: string, overrides: Partial<PersonInput>): PersonInput {
  return {
    name,
    email: null,
    phone: null,
    postalAddress: null,
    postalCode: 'BS14XX',
    birthYear: 1980,
    locale: 'en',
    preferredChannel: null,
    accessibilityNeeds: [],
    country: 'GB',
    region: null,
    timeZone: 'Europe/London',
    segment: null,
    exposedDataTypes: ['names', 'email_addresses', 'postal_addresses'],
    affected: true,
    ...overrides,
  };
}

/**
 * A few simulated recipients (README "Rehearsing"), so the demo's first notice shows what a real
 * send does when contacts fail: a bounce followed by an SMS, a failed SMS followed by a call, a call
 * nobody answers (tried again 30 minutes later, then a letter), an email reported late, and a person
 * no channel but the letter reaches. Only the sandbox provider gives them these outcomes.
 */
export function simulatedDemoPeople(): PersonInput[] {
  return [
    simulated('Mia Hart (simulated bounce)', {
      email: 'bounce+mia@simulator.candor.invalid',
      phone: '+447700900001',
    }),
    simulated('Noah Reed (simulated failing SMS)', {
      phone: '+447700900101',
      preferredChannel: 'sms',
      postalAddress: ADDRESS(101),
    }),
    simulated('Zara Khan (simulated unanswered calls)', {
      phone: '+447700900201',
      accessibilityNeeds: ['visually_impaired'],
      postalAddress: ADDRESS(201),
    }),
    simulated('Omar Fox (simulated late email)', { email: 'late+omar@simulator.candor.invalid' }),
    simulated('Ruth Lane (simulated unreachable)', {
      email: 'bounce+ruth@simulator.candor.invalid',
      phone: '+447700900501',
      postalAddress: ADDRESS(501),
    }),
  ];
}
