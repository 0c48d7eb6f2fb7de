import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alertLevelAfterUpload,
  alertToRaise,
  deadlinePassed,
  enrollmentTemplateProblem,
  enrollmentUrl,
  formatDay,
  isEligible,
  normalizeCode,
  offerState,
  reminderSendAt,
  stockLevel,
  validateCodeFile,
  type CodeFileRow,
} from '../../src/codes/rules.js';
import { readCodeFile } from '../../src/codes/csv.js';
import { poolFormSchema, poolInputSchema } from '../../src/codes/validation.js';
import { LOCALES_DIR } from '../../src/platform/i18n.js';

const rows = (...lines: string[][]): CodeFileRow[] => lines.map((cells, i) => ({ line: i + 1, cells }));

describe('code files', () => {
  it('accepts a header naming a code column in any case, and ignores other columns', () => {
    const result = validateCodeFile(rows(['Serial', 'CODE'], ['1', 'AB-12'], ['2', 'cd 34']));
    expect(result).toEqual({
      ok: true,
      codes: [
        { line: 2, code: 'AB-12', normalized: 'AB12' },
        { line: 3, code: 'cd 34', normalized: 'CD34' },
      ],
    });
  });

  it('reports every bad row by line number, with the line a duplicate repeats', () => {
    const result = validateCodeFile(
      rows(['code'], ['AAA-1'], [''], ['aaa1'], ['x'.repeat(201)], ['BAD\u0007'], ['BBB'], ['b-b-b']),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      { line: 4, problem: 'duplicate_in_file', firstLine: 2 },
      { line: 5, problem: 'too_long' },
      { line: 6, problem: 'unprintable' },
      { line: 8, problem: 'duplicate_in_file', firstLine: 7 },
    ]);
  });

  it('reports a code cell left empty on a row that has other values', () => {
    const result = validateCodeFile(rows(['code', 'serial'], ['', '17']));
    expect(result).toEqual({ ok: false, problems: [{ line: 2, problem: 'empty' }] });
  });

  it('refuses a file without a code column, an empty file, and a file with no codes', () => {
    expect(validateCodeFile(rows(['voucher'], ['A1']))).toEqual({
      ok: false,
      problems: [],
      file: { problem: 'missing_code_column' },
    });
    expect(validateCodeFile([])).toEqual({ ok: false, problems: [], file: { problem: 'empty_file' } });
    expect(validateCodeFile(rows(['code'], ['']))).toEqual({
      ok: false,
      problems: [],
      file: { problem: 'no_codes' },
    });
  });

  it('reads CSV with a byte-order mark, CRLF line ends and blank lines, keeping real line numbers', async () => {
    const result = await readCodeFile('\uFEFFcode,note\r\nA1,x\r\n\r\nA-1,dup\r\n');
    expect(result).toEqual({
      ok: false,
      problems: [{ line: 4, problem: 'duplicate_in_file', firstLine: 2 }],
    });
  });

  it('names the line where the CSV stops making sense', async () => {
    const result = await readCodeFile('code\nA1\n"B2\nC3\n');
    expect(result).toMatchObject({ ok: false, file: { problem: 'malformed' } });
  });
});

describe('who may have a code', () => {
  const person = (affected: boolean, types: string[]) => ({ affected, exposedDataTypes: types });

  it('gives affected-only pools to affected people, and everyone pools to anyone on file', () => {
    expect(isEligible({ eligibility: 'affected', eligibleDataTypes: [] }, person(true, []))).toBe(true);
    expect(isEligible({ eligibility: 'affected', eligibleDataTypes: [] }, person(false, []))).toBe(false);
    expect(isEligible({ eligibility: 'everyone', eligibleDataTypes: [] }, person(false, []))).toBe(true);
  });

  it('gives data-type pools to affected people with any of the listed types exposed', () => {
    const pool = { eligibility: 'data_types' as const, eligibleDataTypes: ['national_ids', 'payment_cards'] };
    expect(isEligible(pool, person(true, ['names', 'payment_cards']))).toBe(true);
    expect(isEligible(pool, person(true, ['names']))).toBe(false);
    expect(isEligible(pool, person(false, ['payment_cards']))).toBe(false);
  });
});

describe('stock', () => {
  it('is low under the threshold and empty at zero', () => {
    expect(stockLevel(20, 20)).toBe('ok');
    expect(stockLevel(19, 20)).toBe('low');
    expect(stockLevel(0, 20)).toBe('empty');
    expect(stockLevel(1, 0)).toBe('ok');
  });

  it('raises each level once until the pool is replenished', () => {
    expect(alertToRaise(null, 'ok')).toBeNull();
    expect(alertToRaise(null, 'low')).toBe('low');
    expect(alertToRaise('low', 'low')).toBeNull();
    expect(alertToRaise('low', 'empty')).toBe('empty');
    expect(alertToRaise('empty', 'empty')).toBeNull();
    expect(alertToRaise('empty', 'low')).toBeNull();
    expect(alertToRaise(null, 'empty')).toBe('empty');
  });

  it('clears the alert after an upload only when stock is back to normal', () => {
    expect(alertLevelAfterUpload(500, 20)).toBeNull();
    expect(alertLevelAfterUpload(5, 20)).toBe('low');
  });
});

describe('enrolment and deadlines', () => {
  it('puts the code in the vendor URL, encoded', () => {
    expect(enrollmentUrl('https://vendor.example/enrol?code={code}&src=candor', 'A B&C')).toBe(
      'https://vendor.example/enrol?code=A%20B%26C&src=candor',
    );
    expect(enrollmentUrl('https://vendor.example/enrol', 'X')).toBe('https://vendor.example/enrol');
  });

  it('accepts only http(s) enrolment addresses', () => {
    expect(enrollmentTemplateProblem('https://vendor.example/{code}')).toBeNull();
    expect(enrollmentTemplateProblem('javascript:alert(1)')).toBe('codes:errors.enrollmentUrlInvalid');
    expect(enrollmentTemplateProblem('vendor.example')).toBe('codes:errors.enrollmentUrlInvalid');
  });

  it('counts the enroll-by day itself as still open', () => {
    expect(deadlinePassed('2027-03-31', new Date('2027-03-31T23:00:00Z'))).toBe(false);
    expect(deadlinePassed('2027-03-31', new Date('2027-04-01T00:00:00Z'))).toBe(true);
    expect(deadlinePassed(null, new Date('2099-01-01T00:00:00Z'))).toBe(false);
  });

  it('schedules a reminder N days before the enroll-by date, across month ends', () => {
    expect(reminderSendAt('2027-03-03', 7).toISOString()).toBe('2027-02-24T09:00:00.000Z');
  });

  it('shows a person their code, the reveal button, a calm replenishing note, or that the offer ended', () => {
    expect(
      offerState({
        assigned: { enrollmentStarted: true, redeemed: false },
        available: 0,
        deadlinePassed: true,
      }),
    ).toEqual({
      state: 'revealed',
      enrollmentStarted: true,
      redeemed: false,
    });
    expect(offerState({ assigned: null, available: 3, deadlinePassed: false })).toEqual({
      state: 'available',
    });
    expect(offerState({ assigned: null, available: 0, deadlinePassed: false })).toEqual({
      state: 'replenishing',
    });
    expect(offerState({ assigned: null, available: 3, deadlinePassed: true })).toEqual({ state: 'closed' });
  });

  it('writes the enroll-by day in the reader’s language, whatever the server’s time zone', () => {
    expect(formatDay('en', '2027-03-31')).toBe('March 31, 2027');
    expect(formatDay('fr', '2027-03-31')).toBe('31 mars 2027');
  });

  it('compares codes however they were typed', () => {
    expect(normalizeCode(' ab-12 cd ')).toBe('AB12CD');
  });
});

describe('pool input', () => {
  it('folds the console form fields into a pool and names each bad field with a locale key', () => {
    const good = poolFormSchema.safeParse({
      kind: 'credit_monitoring',
      name: '24 months of monitoring',
      vendorName: 'Watchful',
      enrollmentUrlTemplate: 'https://watchful.example/enrol?code={code}',
      enrollBy: '2027-03-31',
      eligibility: 'data_types',
      dataType_national_ids: 'on',
      offerMode: 'code_in_message',
      lowStockThreshold: '5',
      instructions_en: 'Enter the code on the first page.',
      instructions_fr: '',
    });
    expect(good.success && good.data).toMatchObject({
      eligibleDataTypes: ['national_ids'],
      lowStockThreshold: 5,
      instructions: { en: 'Enter the code on the first page.' },
    });
    const bad = poolInputSchema.safeParse({
      kind: 'voucher',
      name: '',
      vendorName: 'V',
      enrollmentUrlTemplate: 'ftp://x',
      enrollBy: '31/03/2027',
      eligibility: 'data_types',
    });
    expect(bad.success).toBe(false);
    expect(
      Object.fromEntries(bad.error!.issues.map((issue) => [String(issue.path[0]), issue.message])),
    ).toEqual({
      kind: 'codes:errors.kindMissing',
      name: 'codes:errors.nameMissing',
      enrollmentUrlTemplate: 'codes:errors.enrollmentUrlInvalid',
      enrollBy: 'codes:errors.enrollByInvalid',
    });
  });
});

describe('codes texts', () => {
  // Every language the product is growing to (issue 5 adds them to SUPPORTED_LOCALES): codes is complete in all.
  const LOCALES = ['en', 'fr', 'es', 'de', 'pt', 'zh-Hans', 'ar', 'hi'];
  type Tree = { [key: string]: string | Tree };
  const keys = (tree: Tree, prefix = ''): string[] =>
    Object.entries(tree).flatMap(([key, value]) =>
      typeof value === 'string'
        ? [
            `${prefix}${key}:${[...value.matchAll(/\{\{(\w+)\}\}/g)]
              .map((m) => m[1])
              .sort()
              .join(',')}`,
          ]
        : keys(value, `${prefix}${key}.`),
    );
  const load = (locale: string) =>
    JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, locale, 'codes.json'), 'utf8')) as Tree;

  for (const locale of LOCALES) {
    it(`${locale} has every codes key with the same placeholders as English`, () => {
      expect(keys(load(locale)).sort()).toEqual(keys(load('en')).sort());
    });
  }
});
