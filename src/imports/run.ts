import crypto from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../platform/db.js';
import { withTransaction } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { findIncidentById } from '../incidents/store.js';
import { dedupeKey, type PersonInput } from '../people/store.js';
import {
  formatReferenceCode,
  normalizeReferenceCode,
  REFERENCE_CODE_BYTES,
} from '../people/reference-code.js';
import { IMPORT_COLUMNS, readHeader, validateRow, type ImportColumn, type RowError } from './validate.js';
import {
  dropStagedRows,
  findImport,
  insertImport,
  insertImportErrors,
  mergeStagedRows,
  recordProgress,
  setImportStatus,
  STAGING_COLUMNS,
  type ImportRecord,
} from './store.js';

export interface ImportDeps {
  db: Db;
  vault: Vault;
  clock: Clock;
  logger: Logger;
}

/** One parsed row: its line number in the file and its cells. The first one is the header. */
export interface SourceRecord {
  line: number;
  cells: string[];
}

/** Errors kept per import to show and download; beyond this only the count grows (a wrong file can have millions). */
export const MAX_STORED_ERRORS = 5_000;
const PROGRESS_EVERY = 10_000;
const COPY_BATCH = 1_000;

export class ImportFileError extends Error {
  override name = 'ImportFileError';
  constructor(
    readonly code: string,
    readonly line: number | null,
  ) {
    super(`${code}${line === null ? '' : ` at line ${line}`}`);
  }
}

/** Streams CSV text into records with line numbers, in bounded memory. */
export async function* csvRecords(input: Readable): AsyncGenerator<SourceRecord> {
  const parser = input.pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: 64_000,
    }),
  );
  input.on('error', (error) => parser.destroy(error));
  try {
    for await (const chunk of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { line: chunk.info.lines, cells: chunk.record };
    }
  } catch (error) {
    const lines = (error as { lines?: number }).lines;
    const code = (error as { code?: string }).code;
    if (code?.startsWith('CSV_')) throw new ImportFileError('csv_malformed', lines ?? null);
    throw error;
  }
}

/** The same rows from JSON objects (the API): keys are column names, line numbers are 1-based positions. */
export function* objectRecords(people: readonly Record<string, unknown>[]): Generator<SourceRecord> {
  yield { line: 0, cells: [...IMPORT_COLUMNS] };
  let line = 0;
  for (const person of people) {
    line += 1;
    yield {
      line,
      cells: IMPORT_COLUMNS.map((column) => {
        const value = person[column];
        if (Array.isArray(value)) return value.map(String).join(';');
        if (typeof value === 'boolean') return value ? 'yes' : 'no';
        if (typeof value === 'string' || typeof value === 'number') return String(value);
        return '';
      }),
    };
  }
}

function copyText(value: string): string {
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

export interface ImportOptions {
  incidentId: number;
  createdBy: number | null;
  filename: string | null;
  records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>;
  /** Import the valid rows even when some are wrong. Off by default: a file goes in whole or not at all. */
  acceptValidRows: boolean;
  onProgress?: (counts: { processed: number; valid: number; invalid: number }) => void;
}

/**
 * Imports a file, told as a story: open an import; read each row, check and normalize it; stage the
 * good ones (already encrypted) and note the bad ones by line; then, if nothing was wrong (or the
 * editor said to take the good rows), merge the staged rows into people in one transaction.
 * Otherwise the import waits for the editor's decision.
 */
export async function runImport(deps: ImportDeps, options: ImportOptions): Promise<ImportRecord> {
  const incident = await findIncidentById(deps.db, options.incidentId);
  if (!incident) throw new NotFoundError(`There is no incident ${options.incidentId}.`);
  await discardWaitingImports(deps, options.incidentId);
  const record = await insertImport(deps.db, options);
  const counts = { processed: 0, valid: 0, invalid: 0 };
  let storedErrors = 0;
  let pendingErrors: RowError[] = [];
  const flushErrors = async () => {
    const batch = pendingErrors;
    pendingErrors = [];
    await insertImportErrors(deps.db, record.id, batch);
  };

  const client = await deps.db.connect();
  const copy = client.query(copyFrom(`COPY import_rows (${STAGING_COLUMNS.join(', ')}) FROM STDIN`));
  const copyDone = once(copy, 'finish');
  // An error before the end is handled below; this keeps an early COPY failure from going unobserved.
  copyDone.catch(() => undefined);
  try {
    let columns: (ImportColumn | null)[] | null = null;
    const currentYear = deps.clock.now().getUTCFullYear();
    let batch: string[] = [];
    let random = Buffer.alloc(0);
    for await (const source of options.records) {
      if (!columns) {
        const header = readHeader(source.cells);
        if (!header.ok)
          throw new ImportFileError(
            header.column ? `${header.problem}:${header.column}` : header.problem,
            source.line,
          );
        columns = header.columns;
        continue;
      }
      counts.processed += 1;
      let result: ReturnType<typeof validateRow>;
      if (source.cells.length !== columns.length) {
        result = {
          ok: false,
          errors: [{ line: source.line, column: null, reason: 'wrong_number_of_columns' }],
        };
      } else {
        const cells: Partial<Record<ImportColumn, string>> = {};
        columns.forEach((column, index) => {
          if (column) cells[column] = source.cells[index];
        });
        result = validateRow(cells, source.line, { defaultLocale: incident.defaultLocale, currentYear });
      }
      if (result.ok) {
        counts.valid += 1;
        // Random bytes in blocks: one system call per thousand reference codes, not one per row.
        if (random.length < REFERENCE_CODE_BYTES) random = crypto.randomBytes(REFERENCE_CODE_BYTES * 1024);
        batch.push(
          stagedLine(
            deps.vault,
            record.id,
            source.line,
            result.person,
            random.subarray(0, REFERENCE_CODE_BYTES),
          ),
        );
        random = random.subarray(REFERENCE_CODE_BYTES);
        if (batch.length >= COPY_BATCH) {
          if (!copy.write(batch.join(''))) await once(copy, 'drain');
          batch = [];
        }
      } else {
        counts.invalid += 1;
        for (const error of result.errors) {
          if (storedErrors >= MAX_STORED_ERRORS) break;
          storedErrors += 1;
          pendingErrors.push(error);
        }
        if (pendingErrors.length >= 500) await flushErrors();
      }
      if (counts.processed % PROGRESS_EVERY === 0) {
        await recordProgress(deps.db, record.id, counts);
        options.onProgress?.(counts);
      }
    }
    if (!columns) throw new ImportFileError('empty_file', null);
    if (batch.length > 0) copy.write(batch.join(''));
    copy.end();
    await copyDone;
  } catch (error) {
    copy.destroy(error instanceof Error ? error : new Error(String(error)));
    await copyDone.catch(() => undefined);
    client.release();
    const failure = error instanceof ImportFileError ? error.message : 'unreadable';
    if (!(error instanceof ImportFileError))
      deps.logger.error({ err: error, importId: record.id }, 'import failed');
    await dropStagedRows(deps.db, record.id);
    await recordProgress(deps.db, record.id, counts);
    await setImportStatus(deps.db, record.id, ['validating'], 'failed', {
      failure,
      finishedAt: deps.clock.now(),
    });
    return (await findImport(deps.db, record.id))!;
  }
  client.release();
  await flushErrors();
  await recordProgress(deps.db, record.id, counts);
  options.onProgress?.(counts);

  if (counts.valid === 0) {
    await setImportStatus(
      deps.db,
      record.id,
      ['validating'],
      counts.invalid > 0 ? 'needs_review' : 'failed',
      {
        ...(counts.invalid > 0 ? {} : { failure: 'no_rows', finishedAt: deps.clock.now() }),
      },
    );
  } else if (counts.invalid === 0 || options.acceptValidRows) {
    await commitImport(deps, record.id);
  } else {
    await setImportStatus(deps.db, record.id, ['validating'], 'needs_review');
  }
  deps.logger.info({ importId: record.id, incidentId: options.incidentId, ...counts }, 'import read');
  return (await findImport(deps.db, record.id))!;
}

/** The editor's "import the valid rows": every staged row goes in, in one transaction, or none does. */
export async function commitImport(deps: ImportDeps, importId: number): Promise<ImportRecord> {
  await withTransaction(deps.db, async (tx) => {
    const { rows } = await tx.query<{ status: string; incident_id: number; rows_valid: number }>(
      'SELECT status, incident_id, rows_valid FROM imports WHERE id = $1 FOR UPDATE',
      [importId],
    );
    const current = rows[0];
    if (!current) throw new NotFoundError(`There is no import ${importId}.`);
    if (current.status !== 'validating' && current.status !== 'needs_review')
      throw new ConflictError('This import has already been completed or discarded.');
    if (current.rows_valid === 0) throw new ConflictError('This import has no valid rows to import.');
    const merged = await mergeStagedRows(tx, importId, current.incident_id);
    await dropStagedRows(tx, importId);
    await setImportStatus(tx, importId, ['validating', 'needs_review'], 'completed', {
      finishedAt: deps.clock.now(),
      created: merged.created,
      merged: current.rows_valid - merged.created,
    });
    await tx.query('UPDATE incidents SET updated_at = $2 WHERE id = $1', [
      current.incident_id,
      deps.clock.now(),
    ]);
  });
  return (await findImport(deps.db, importId))!;
}

/** The editor's "discard this file": nothing from it reaches people. */
export async function discardImport(deps: ImportDeps, importId: number): Promise<ImportRecord> {
  await withTransaction(deps.db, async (tx) => {
    const moved = await setImportStatus(tx, importId, ['needs_review', 'validating'], 'discarded', {
      finishedAt: deps.clock.now(),
    });
    if (!moved) throw new ConflictError('This import has already been completed or discarded.');
    await dropStagedRows(tx, importId);
  });
  return (await findImport(deps.db, importId))!;
}

/** A new file replaces any earlier one still waiting for a decision (the editor fixed it and uploaded again). */
async function discardWaitingImports(deps: ImportDeps, incidentId: number): Promise<void> {
  const { rows } = await deps.db.query<{ id: number }>(
    `SELECT id FROM imports WHERE incident_id = $1 AND status = 'needs_review'`,
    [incidentId],
  );
  for (const row of rows) await discardImport(deps, row.id).catch(() => undefined);
}
