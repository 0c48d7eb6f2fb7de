import type { Deps } from '../../src/deps.js';
import { createPool, uploadCodes } from '../../src/codes/service.js';
import type { Pool } from '../../src/codes/store.js';
import type { PoolInput } from '../../src/codes/validation.js';

/** A code pool with keyword defaults: say only what matters to the test. */
export function makePool(
  deps: Pick<Deps, 'db'>,
  incidentId: number,
  overrides: Partial<PoolInput> = {},
): Promise<Pool> {
  return createPool(deps, {
    kind: 'credit_monitoring',
    name: '24 months of credit monitoring',
    vendorName: 'Watchful Credit',
    enrollmentUrlTemplate: 'https://watchful.example/enrol?code={code}',
    enrollBy: daysFromToday(30),
    eligibility: 'affected',
    eligibleDataTypes: [],
    offerMode: 'reveal_link',
    lowStockThreshold: 5,
    instructions: { en: 'Enter the code on the first page.', fr: 'Saisissez le code sur la première page.' },
    ...overrides,
    incidentId,
    createdBy: null,
  });
}

/** `count` distinct codes named after the pool, so a mix-up between pools would show. */
export function codeList(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
}

export async function stockPool(deps: Pick<Deps, 'db' | 'vault'>, poolId: number, codes: string[]) {
  return uploadCodes(deps, { poolId, file: ['code', ...codes].join('\n'), uploadedBy: null, source: 'cli' });
}

export function daysFromToday(days: number): string {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
