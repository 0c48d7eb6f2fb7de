import crypto from 'node:crypto';
import type { Vault } from '../platform/vault.js';
import { dedupeKey, type PersonInput } from '../people/store.js';
import {
  formatReferenceCode,
  normalizeReferenceCode,
  REFERENCE_CODE_BYTES,
} from '../people/reference-code.js';
import { validateRow, type ImportColumn, type RowError, type SimulatedContacts } from './validate.js';

/**
 * The import's per-row work, with no I/O: check and normalize each row, then hash and encrypt the
 * good ones into COPY text for the staging table. It is the costly part of an import (AES-GCM and
 * HMAC for every row), so it runs on batches that a pool of threads can share (`stage-pool.ts`).
 */

/** One parsed row: its row number as a spreadsheet shows it (header = 1) and its cells. The first one is the header. */
export interface SourceRecord {
  line: number;
  cells: string[];
}

export interface StageBatchInput {
  importId: number;
  columns: (ImportColumn | null)[];
  defaultLocale: string;
  currentYear: number;
  /** Whether simulated recipients may be imported: only when the sandbox would send to them. */
  simulated: SimulatedContacts;
  records: SourceRecord[];
}

export interface StagedBatch {
  /** The valid rows as COPY text, in the order they came. */
  copyText: string;
  valid: number;
  invalid: number;
  /** Every problem of the invalid rows, in line order; the caller decides how many to keep. */
  errors: RowError[];
  /**
   * The first 8 bytes of each valid row's dedupe hash, as two 32-bit halves, in the order of the
   * rows: enough for the caller to prove a file has no two rows for one contact (distinct prefixes
   * mean distinct hashes), so the rows can go into an empty incident without sorting them.
   */
  dedupePrefixes: Uint32Array;
}

export function stageBatch(vault: Vault, input: StageBatchInput): StagedBatch {
  const { columns, records } = input;
  const lines: string[] = [];
  const errors: RowError[] = [];
  const prefixes = new Uint32Array(records.length * 2);
  let invalid = 0;
  // Random bytes for reference codes in one system call per batch, not one per row.
  const random = crypto.randomBytes(REFERENCE_CODE_BYTES * records.length);
  for (const source of records) {
    if (source.cells.length !== columns.length) {
      invalid += 1;
      errors.push({ line: source.line, column: null, reason: 'wrong_number_of_columns', value: null });
      continue;
    }
    const cells: Partial<Record<ImportColumn, string>> = {};
    for (let index = 0; index < columns.length; index += 1) {
      const column = columns[index];
      if (column) cells[column] = source.cells[index];
    }
    const result = validateRow(cells, source.line, {
      defaultLocale: input.defaultLocale,
      currentYear: input.currentYear,
      simulated: input.simulated,
    });
    if (!result.ok) {
      invalid += 1;
      errors.push(...result.errors);
      continue;
    }
    const offset = lines.length * REFERENCE_CODE_BYTES;
    const dedupe = vault.hash('dedupe', dedupeKey(result.person));
    prefixes[lines.length * 2] = dedupe.readUInt32BE(0);
    prefixes[lines.length * 2 + 1] = dedupe.readUInt32BE(4);
    lines.push(
      rowText(
        vault,
        input.importId,
        source.line,
        result.person,
        dedupe,
        random.subarray(offset, offset + REFERENCE_CODE_BYTES),
      ),
    );
  }
  return {
    copyText: lines.join(''),
    valid: lines.length,
    invalid,
    errors,
    dedupePrefixes: prefixes.slice(0, lines.length * 2),
  };
}

const COPY_SPECIAL = /[\\\n\r\t]/;
function copyText(value: string): string {
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/[\\\n\r\t]/g, (char) =>
    char === '\\' ? '\\\\' : char === '\n' ? '\\n' : char === '\r' ? '\\r' : '\\t',
  );
}
const NULL = '\\N';
const bytea = (value: Buffer) => `\\\\x${value.toString('hex')}`;
const textOrNull = (value: string | null) => (value === null ? NULL : copyText(value));
const array = (items: readonly string[]) =>
  copyText(`{${items.map((item) => `"${item.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`);

/**
 * Birth years have about 120 possible values, so their keyed hashes (as COPY text) are computed once
 * per vault and thread rather than once per row.
 */
const birthYearHashes = new WeakMap<Vault, Map<number, string>>();
function birthYearHash(vault: Vault, year: number | null): string {
  if (year === null) return NULL;
  let known = birthYearHashes.get(vault);
  if (!known) birthYearHashes.set(vault, (known = new Map<number, string>()));
  let text = known.get(year);
  if (text === undefined) known.set(year, (text = bytea(vault.hash('birth_year', String(year)))));
  return text;
}

/** One staged row in COPY text format: normalized, hashed and encrypted before it leaves the process. */
export function stagedLine(
  vault: Vault,
  importId: number,
  line: number,
  person: PersonInput,
  referenceBytes: Uint8Array,
): string {
  return rowText(vault, importId, line, person, vault.hash('dedupe', dedupeKey(person)), referenceBytes);
}

function rowText(
  vault: Vault,
  importId: number,
  line: number,
  person: PersonInput,
  dedupeHash: Buffer,
  referenceBytes: Uint8Array,
): string {
  const code = formatReferenceCode(referenceBytes);
  // Sealed values (base64url and dots) and hex never hold a character COPY would need escaped.
  const seal = (value: string | null) => (value === null ? NULL : vault.seal(value));
  const hash = (purpose: Parameters<Vault['hash']>[0], value: string | null) =>
    value === null ? NULL : bytea(vault.hash(purpose, value));
  return (
    [
      String(importId),
      String(line),
      bytea(dedupeHash),
      bytea(vault.hash('reference', normalizeReferenceCode(code)!)),
      vault.seal(code),
      hash('email', person.email),
      hash('phone', person.phone),
      hash('postal_code', person.postalCode),
      birthYearHash(vault, person.birthYear),
      seal(person.name),
      seal(person.email),
      seal(person.phone),
      seal(person.postalAddress),
      copyText(person.locale),
      textOrNull(person.preferredChannel),
      array(person.accessibilityNeeds),
      textOrNull(person.country),
      textOrNull(person.region),
      textOrNull(person.timeZone),
      textOrNull(person.segment),
      array(person.exposedDataTypes),
      person.affected ? 't' : 'f',
    ].join('\t') + '\n'
  );
}
