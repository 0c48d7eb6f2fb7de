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
}

export function stageBatch(vault: Vault, input: StageBatchInput): StagedBatch {
  const { columns, records } = input;
  const lines: string[] = [];
  const errors: RowError[] = [];
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
    lines.push(
      stagedLine(
        vault,
        input.importId,
        source.line,
        result.person,
        random.subarray(offset, offset + REFERENCE_CODE_BYTES),
      ),
    );
  }
  return { copyText: lines.join(''), valid: lines.length, invalid, errors };
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

/** One staged row in COPY text format: normalized, hashed and encrypted before it leaves the process. */
export function stagedLine(
  vault: Vault,
  importId: number,
  line: number,
  person: PersonInput,
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
      bytea(vault.hash('dedupe', dedupeKey(person))),
      bytea(vault.hash('reference', normalizeReferenceCode(code)!)),
      vault.seal(code),
      hash('email', person.email),
      hash('phone', person.phone),
      hash('postal_code', person.postalCode),
      hash('birth_year', person.birthYear === null ? null : String(person.birthYear)),
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
