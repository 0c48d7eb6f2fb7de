/**
 * The rules of code pools, pure: which codes a file holds, who may have a code, how much stock is
 * left, where a code is spent and when to remind. The use cases (service.ts) ask here before they write.
 */

export const POOL_KINDS = [
  'credit_monitoring',
  'identity_protection',
  'discount',
  'gift_certificate',
  'membership_upgrade',
] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** A discount, gift or upgrade makes amends; it does not protect anyone, and the message must not say so. */
export function isGoodwill(kind: PoolKind): boolean {
  return kind === 'discount' || kind === 'gift_certificate' || kind === 'membership_upgrade';
}

export const ELIGIBILITIES = ['affected', 'everyone', 'data_types'] as const;
export type Eligibility = (typeof ELIGIBILITIES)[number];

export const OFFER_MODES = ['reveal_link', 'code_in_message'] as const;
export type OfferMode = (typeof OFFER_MODES)[number];

export const MAX_CODE_LENGTH = 200;

/**
 * The form a code is compared in: people read codes off a screen or a letter and type them back with
 * other spacing, dashes or case, so those never make two codes different.
 */
export function normalizeCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

/** One problem in an uploaded file, by line number (1 is the header). The code itself is never echoed. */
export interface CodeFileProblem {
  line: number;
  problem: 'empty' | 'too_long' | 'unprintable' | 'duplicate_in_file' | 'already_in_pool';
  /** For a duplicate: the line it repeats. */
  firstLine?: number;
}

export interface CodeFileRow {
  /** Line number in the file, counting from 1 (the header). */
  line: number;
  cells: string[];
}

export interface ValidCode {
  line: number;
  /** As the vendor wrote it, trimmed: what the person is shown. */
  code: string;
  normalized: string;
}

export type CodeFileResult =
  | { ok: true; codes: ValidCode[] }
  | {
      ok: false;
      problems: CodeFileProblem[];
      /** A problem with the file as a whole rather than with some rows. */
      file?: FileProblem;
    };

export type FileProblem =
  { problem: 'missing_code_column' | 'empty_file' | 'no_codes' } | { problem: 'malformed'; line: number };

const UNPRINTABLE = /\p{Cc}/u;

/**
 * Validates a code file row by row, so a file of a million codes never sits in memory as rows. The
 * first row is a header naming a `code` column (any case); other columns (a vendor's serial numbers,
 * say) are ignored. Every bad row is reported, not just the first, so staff fix the file once.
 */
export function createCodeFileValidator() {
  let column: number | null = null;
  let missingColumn = false;
  const problems: CodeFileProblem[] = [];
  const codes: ValidCode[] = [];
  const seen = new Map<string, number>();
  return {
    add({ line, cells }: CodeFileRow): void {
      if (missingColumn) return;
      if (column === null) {
        column = cells.findIndex((cell) => cell.trim().toLowerCase() === 'code');
        missingColumn = column < 0;
        return;
      }
      if (cells.every((cell) => cell.trim() === '')) return;
      const code = (cells[column] ?? '').trim();
      const normalized = normalizeCode(code);
      if (normalized === '') problems.push({ line, problem: 'empty' });
      else if (code.length > MAX_CODE_LENGTH) problems.push({ line, problem: 'too_long' });
      else if (UNPRINTABLE.test(code)) problems.push({ line, problem: 'unprintable' });
      else {
        const firstLine = seen.get(normalized);
        if (firstLine !== undefined) problems.push({ line, problem: 'duplicate_in_file', firstLine });
        else {
          seen.set(normalized, line);
          codes.push({ line, code, normalized });
        }
      }
    },
    result(): CodeFileResult {
      if (column === null) return { ok: false, problems: [], file: { problem: 'empty_file' } };
      if (missingColumn) return { ok: false, problems: [], file: { problem: 'missing_code_column' } };
      if (problems.length > 0) return { ok: false, problems };
      if (codes.length === 0) return { ok: false, problems: [], file: { problem: 'no_codes' } };
      return { ok: true, codes };
    },
  };
}

export function validateCodeFile(rows: Iterable<CodeFileRow>): CodeFileResult {
  const validator = createCodeFileValidator();
  for (const row of rows) validator.add(row);
  return validator.result();
}

/** What eligibility needs to know about a person. */
export interface EligibilityFacts {
  affected: boolean;
  exposedDataTypes: readonly string[];
}

export interface PoolEligibility {
  eligibility: Eligibility;
  eligibleDataTypes: readonly string[];
}

/** Whether a person may have a code from the pool. Kept in step with `eligibleSql` below. */
export function isEligible(pool: PoolEligibility, person: EligibilityFacts): boolean {
  switch (pool.eligibility) {
    case 'everyone':
      return true;
    case 'affected':
      return person.affected;
    case 'data_types':
      return person.affected && person.exposedDataTypes.some((type) => pool.eligibleDataTypes.includes(type));
  }
}

/** The same rule as `isEligible`, as SQL over `people p` and `code_pools cp`. */
export const ELIGIBLE_SQL = `(cp.eligibility = 'everyone'
  OR (cp.eligibility = 'affected' AND p.affected)
  OR (cp.eligibility = 'data_types' AND p.affected AND p.exposed_data_types && cp.eligible_data_types))`;

export type StockLevel = 'ok' | 'low' | 'empty';

/** Low means fewer than the threshold are left; a threshold of 0 warns only when the pool is empty. */
export function stockLevel(available: number, threshold: number): StockLevel {
  if (available <= 0) return 'empty';
  return available < threshold ? 'low' : 'ok';
}

const SEVERITY: Record<StockLevel, number> = { ok: 0, low: 1, empty: 2 };

/**
 * The alert to raise now, given the most severe one already raised since the pool was replenished:
 * one warning per level, so a thousand reveals after the threshold send one email, not a thousand.
 */
export function alertToRaise(alreadyRaised: StockLevel | null, now: StockLevel): 'low' | 'empty' | null {
  if (now === 'ok') return null;
  return SEVERITY[now] > SEVERITY[alreadyRaised ?? 'ok'] ? now : null;
}

/** The alert level a pool is left with after an upload: cleared when stock is back to normal. */
export function alertLevelAfterUpload(available: number, threshold: number): 'low' | 'empty' | null {
  const level = stockLevel(available, threshold);
  return level === 'ok' ? null : level;
}

export const CODE_PLACEHOLDER = '{code}';

/**
 * An enrollment URL template is an absolute http(s) URL; `{code}` where the vendor wants the code.
 * Returns a locale key for the problem, or null when it is fine.
 */
export function enrollmentTemplateProblem(template: string): string | null {
  const probe = template.replaceAll(CODE_PLACEHOLDER, 'CODE');
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return 'codes:errors.enrollmentUrlInvalid';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'codes:errors.enrollmentUrlInvalid';
  return null;
}

/** The vendor's page for this code; the code is URL-encoded wherever the template puts it. */
export function enrollmentUrl(template: string, code: string): string {
  return template.replaceAll(CODE_PLACEHOLDER, encodeURIComponent(code));
}

/** A calendar date (YYYY-MM-DD) as PostgreSQL `date` returns it, compared in UTC. */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** A calendar day in the reader's language ("31 March 2027"); the enroll-by day is a calendar day, so UTC. */
export function formatDay(lang: string, day: string): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(
    new Date(`${day}T00:00:00Z`),
  );
}

/** The enroll-by date is the last day a code can be used: it has passed only from the next day. */
export function deadlinePassed(enrollBy: string | null, today: Date): boolean {
  return enrollBy !== null && isoDate(today) > enrollBy;
}

/** When a reminder N days before the enroll-by date goes out: that morning, 09:00 UTC. */
export function reminderSendAt(enrollBy: string, daysBefore: number): Date {
  const date = new Date(`${enrollBy}T09:00:00Z`);
  date.setUTCDate(date.getUTCDate() - daysBefore);
  return date;
}

/** What a person sees of a pool on their personal page. */
export type OfferState =
  | { state: 'revealed'; enrollmentStarted: boolean; redeemed: boolean }
  | { state: 'available' }
  | { state: 'replenishing' }
  | { state: 'closed' };

export function offerState(input: {
  assigned: { enrollmentStarted: boolean; redeemed: boolean } | null;
  available: number;
  deadlinePassed: boolean;
}): OfferState {
  if (input.assigned) return { state: 'revealed', ...input.assigned };
  if (input.deadlinePassed) return { state: 'closed' };
  return input.available > 0 ? { state: 'available' } : { state: 'replenishing' };
}
