/**
 * Regulator deadlines, pure: from when the breach was discovered and where the affected people live,
 * when each regulator must be told. GDPR (EU and EEA) and the UK GDPR give 72 hours from awareness;
 * other countries come from configuration (`REGULATOR_DEADLINE_HOURS`, e.g. `US=720,AU=720`), which
 * may also override these.
 */
import { EEA_NON_EU, EU_MEMBER_STATES } from '../platform/countries.js';

/** EU member states and the EEA countries that apply the GDPR. */
export const GDPR_COUNTRIES: ReadonlySet<string> = new Set([...EU_MEMBER_STATES, ...EEA_NON_EU]);

export const GDPR_HOURS = 72;
export const UK_HOURS = 72;

export interface RegulatorDeadline {
  /** `EU` for the GDPR (one lead authority), otherwise the ISO country code. */
  jurisdiction: string;
  countries: string[];
  people: number;
  hours: number;
  dueAt: Date;
  /** Milliseconds left; negative once overdue. */
  remainingMs: number;
}

export interface NoDeadline {
  country: string | null;
  people: number;
}

export function regulatorDeadlines(input: {
  discoveredAt: Date;
  now: Date;
  peopleByCountry: readonly { country: string | null; people: number }[];
  configuredHours: Readonly<Record<string, number>>;
}): { deadlines: RegulatorDeadline[]; unregulated: NoDeadline[] } {
  const groups = new Map<string, { countries: Set<string>; people: number; hours: number }>();
  const unregulated: NoDeadline[] = [];
  for (const { country, people } of input.peopleByCountry) {
    const code = country?.toUpperCase() ?? null;
    const configured = code ? input.configuredHours[code] : undefined;
    let jurisdiction: string | null = null;
    let hours: number | undefined;
    if (code && configured !== undefined) [jurisdiction, hours] = [code, configured];
    else if (code && GDPR_COUNTRIES.has(code))
      [jurisdiction, hours] = ['EU', input.configuredHours.EU ?? GDPR_HOURS];
    else if (code === 'GB' || code === 'UK') [jurisdiction, hours] = ['GB', UK_HOURS];
    if (!jurisdiction || hours === undefined || !code) {
      unregulated.push({ country: code, people });
      continue;
    }
    const group = groups.get(jurisdiction) ?? { countries: new Set<string>(), people: 0, hours };
    group.countries.add(code);
    group.people += people;
    groups.set(jurisdiction, group);
  }
  const deadlines = [...groups].map(([jurisdiction, group]) => {
    const dueAt = new Date(input.discoveredAt.getTime() + group.hours * 3_600_000);
    return {
      jurisdiction,
      countries: [...group.countries].sort(),
      people: group.people,
      hours: group.hours,
      dueAt,
      remainingMs: dueAt.getTime() - input.now.getTime(),
    };
  });
  deadlines.sort(
    (a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.jurisdiction.localeCompare(b.jurisdiction),
  );
  return { deadlines, unregulated };
}

/** A countdown in whole units, for a sentence like "2 days 5 hours left" or "overdue by 3 hours". */
export function countdown(remainingMs: number): {
  overdue: boolean;
  days: number;
  hours: number;
  minutes: number;
} {
  const overdue = remainingMs < 0;
  const totalMinutes = Math.floor(Math.abs(remainingMs) / 60_000);
  return {
    overdue,
    days: Math.floor(totalMinutes / (24 * 60)),
    hours: Math.floor((totalMinutes % (24 * 60)) / 60),
    minutes: totalMinutes % 60,
  };
}

/** The steps of a breach response, in the order they are usually done. */
export const CHECKLIST_STEPS = [
  'contain',
  'assess',
  'notify_authorities',
  'notify_people',
  'offer_services',
  'review',
] as const;
export type ChecklistStep = (typeof CHECKLIST_STEPS)[number];
export const CHECKLIST_STATUSES = ['todo', 'in_progress', 'done'] as const;
export type ChecklistStatus = (typeof CHECKLIST_STATUSES)[number];

/** A step's due time: what staff set, or for telling the authorities, the earliest regulator deadline. */
export function dueTimeOf(
  step: ChecklistStep,
  setByStaff: Date | null,
  deadlines: readonly RegulatorDeadline[],
): Date | null {
  if (setByStaff) return setByStaff;
  if (step === 'notify_authorities') return deadlines[0]?.dueAt ?? null;
  return null;
}
