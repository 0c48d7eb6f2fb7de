import type { Deps } from '../deps.js';
import { createRateLimit, type RateLimit } from '../platform/rate-limit.js';

/**
 * How often one client may try the lookup, and how often anyone may try one reference code, email
 * or phone number. Generous for a person who mistypes; useless to someone working through a list.
 */
export const LOOKUP_LIMITS = {
  perClient: { points: 20, durationSeconds: 15 * 60 },
  perTarget: { points: 5, durationSeconds: 60 * 60 },
  perCodeRequest: { points: 5, durationSeconds: 10 * 60 },
} as const;

export interface LookupLimits {
  perClient: RateLimit;
  perTarget: RateLimit;
  perCodeRequest: RateLimit;
}

export function createLookupLimits(deps: Pick<Deps, 'redis' | 'config'>): LookupLimits {
  return {
    perClient: createRateLimit(deps, { name: 'lookup-client', ...LOOKUP_LIMITS.perClient }),
    perTarget: createRateLimit(deps, { name: 'lookup-target', ...LOOKUP_LIMITS.perTarget }),
    perCodeRequest: createRateLimit(deps, { name: 'lookup-code', ...LOOKUP_LIMITS.perCodeRequest }),
  };
}
