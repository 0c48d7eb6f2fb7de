import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import { listPools } from './store.js';
import { createPool, uploadCodes } from './service.js';
import { isoDate } from './rules.js';

/**
 * The demo incident's offers: a year of credit monitoring for everyone affected (with an enroll-by
 * date 90 days out) and a goodwill discount for everyone on file. Does nothing if the incident
 * already has pools. Called from the demo seed once the demo incident exists.
 */
export async function seedDemoCodes(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  incidentId: number,
): Promise<{ created: boolean }> {
  if ((await listPools(deps.db, { incidentId })).length > 0) return { created: false };
  const enrollBy = new Date(deps.clock.now());
  enrollBy.setUTCDate(enrollBy.getUTCDate() + 90);
  const monitoring = await createPool(deps, {
    incidentId,
    createdBy: null,
    kind: 'credit_monitoring',
    name: '12 months of credit monitoring',
    vendorName: 'Watchful Credit (demo)',
    enrollmentUrlTemplate: 'https://credit-monitoring.example/enrol?code={code}',
    enrollBy: isoDate(enrollBy),
    eligibility: 'affected',
    eligibleDataTypes: [],
    offerMode: 'reveal_link',
    lowStockThreshold: 10,
    instructions: {
      en: 'Enter your code on the first page of the enrolment form. It takes about five minutes.',
      fr: 'Saisissez votre code sur la première page du formulaire d’inscription. Cela prend environ cinq minutes.',
    },
  });
  const discount = await createPool(deps, {
    incidentId,
    createdBy: null,
    kind: 'discount',
    name: '20% off your next order',
    vendorName: 'Northwind',
    enrollmentUrlTemplate: null,
    enrollBy: null,
    eligibility: 'everyone',
    eligibleDataTypes: [],
    offerMode: 'code_in_message',
    lowStockThreshold: 5,
    instructions: {
      en: 'Enter the code at checkout.',
      fr: 'Saisissez le code au moment de payer.',
    },
  });
  const codes = (prefix: string, count: number) =>
    [
      'code',
      ...Array.from(
        { length: count },
        () => `${prefix}-${crypto.randomBytes(4).toString('hex').toUpperCase()}`,
      ),
    ].join('\n');
  await uploadCodes(deps, { poolId: monitoring.id, file: codes('WCM', 40), uploadedBy: null, source: 'cli' });
  await uploadCodes(deps, { poolId: discount.id, file: codes('NW20', 40), uploadedBy: null, source: 'cli' });
  return { created: true };
}
