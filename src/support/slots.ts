import type { PreferredTime } from './store.js';

/**
 * The local hours of each callback slot, in the person's own zone: what "Evening" promises them, and
 * what the agent who calls back must keep to. `any` has no hours.
 */
export const CALLBACK_HOURS: Record<PreferredTime, { startMinute: number; endMinute: number } | null> = {
  morning: { startMinute: 9 * 60, endMinute: 12 * 60 },
  afternoon: { startMinute: 12 * 60, endMinute: 17 * 60 },
  evening: { startMinute: 17 * 60, endMinute: 20 * 60 },
  any: null,
};
