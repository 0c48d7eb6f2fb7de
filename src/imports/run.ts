import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../platform/db.js';
import { withTransaction } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { idOr404 } from '../platform/ids.js';
import { findIncidentById } from '../incidents/store.js';
import type { Config } from '../config.js';
import {
  IMPORT_COLUMNS,
  readHeader,
  simulatedContactsAllowed,
  type ImportColumn,
  type RowError,
} from './validate.js';
import type { SourceRecord, StagedBatch } from './stage.js';
import type { RowStager } from './stage-pool.js';
import { DistinctPrefixes } from './distinct-prefixes.js';
import {
  dropStagedRows,
  findImport,
  insertImport,
  insertImportErrors,
  markDistinctContacts,
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
  importStager: RowStager;
  /** The providers, which decide whether simulated recipients may be imported. */
  config: Pick<Config, 'email' | 'sms' | 'voice'>;
}

export type { SourceRecord };

/** Errors kept per import to show and download; beyond this only the count grows (a wrong file can have millions). */
export const MAX_STORED_ERRORS = 5_000;
const PROGRESS_EVERY = 10_000;
/** Rows per batch handed to the stager; PROGRESS_EVERY is a multiple, so progress lands on round counts. */
const BATCH_ROWS = 500;
/** Batches being staged at once: two a thread keeps two threads busy, and bounds memory. */
const BATCHES_IN_FLIGHT = 4;

export class ImportFileError extends Error {
  override name = 'ImportFileError';
  constructor(
    readonly code: string,
    readonly line: number | null,
  ) {
    super(`${code}${line === null ? '' : ` at line ${line}`}`);
  }
}

interface RowInfo {
  /** Records read so far, this one and the header included. */
  records: number;
  /** Empty lines skipped so far. */
  empty_lines: number;
}

/**
 * The row a spreadsheet shows a record on: the header is row 1, a blank line is a row, and a quoted
 * cell with line breaks in it does not push the rows after it down (a physical line count would).
 */
function spreadsheetRow(info: RowInfo): number {
  return info.records + info.empty_lines;
}

/** Streams CSV text into records numbered by spreadsheet row, in bounded memory. */
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
    for await (const chunk of parser as AsyncIterable<{ record: string[]; info: RowInfo }>) {
      yield { line: spreadsheetRow(chunk.info), cells: chunk.record };
    }
  } catch (error) {
    // Every parse error is a CsvError; not every one's code starts with CSV_ (INVALID_OPENING_QUOTE).
    if (error instanceof CsvError) {
      const info = error as Partial<RowInfo>;
      // The record being read when the parser gave up is the one after those it finished.
      const row =
        typeof info.records === 'number'
          ? spreadsheetRow({ records: info.records + 1, empty_lines: info.empty_lines ?? 0 })
          : null;
      throw new ImportFileError('csv_malformed', row);
    }
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
/** The import a path names, for the console and the API alike: a 404 when there is none. */
export async function loadImport(deps: Pick<ImportDeps, 'db'>, idParam: unknown): Promise<ImportRecord> {
  const record = await findImport(deps.db, idOr404(idParam, 'import'));
  if (!record) throw new NotFoundError('There is no such import.');
  return record;
}

export async function runImport(deps: ImportDeps, options: ImportOptions): Promise<ImportRecord> {
  const incident = await findIncidentById(deps.db, options.incidentId);
  if (!incident) throw new NotFoundError(`There is no incident ${options.incidentId}.`);
  await discardWaitingImports(deps, options.incidentId);
  const record = await insertImport(deps.db, options);
  const counts = { processed: 0, valid: 0, invalid: 0 };
  const contacts = new DistinctPrefixes();
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
  // Batches are staged concurrently but written, counted and reported strictly in file order.
  const inFlight: Promise<StagedBatch>[] = [];
  const writeNext = async () => {
    const staged = await inFlight.shift()!;
    counts.processed += staged.valid + staged.invalid;
    counts.valid += staged.valid;
    counts.invalid += staged.invalid;
    contacts.addAll(staged.dedupePrefixes);
    if (staged.copyText && !copy.write(staged.copyText)) await once(copy, 'drain');
    for (const error of staged.errors) {
      if (storedErrors >= MAX_STORED_ERRORS) break;
      storedErrors += 1;
      pendingErrors.push(error);
    }
    if (pendingErrors.length >= 500) await flushErrors();
    if (counts.processed % PROGRESS_EVERY === 0) {
      await recordProgress(deps.db, record.id, counts);
      options.onProgress?.(counts);
    }
  };
  try {
    let columns: (ImportColumn | null)[] | null = null;
    const currentYear = deps.clock.now().getUTCFullYear();
    const simulated = simulatedContactsAllowed(deps.config);
    let batch: SourceRecord[] = [];
    const submit = async (records: SourceRecord[]) => {
      const staged = deps.importStager.stage({
        importId: record.id,
        columns: columns!,
        defaultLocale: incident.defaultLocale,
        currentYear,
        simulated,
        records,
      });
      // Observed at once, so a batch failing while an earlier one is awaited is not "unhandled".
      staged.catch(() => undefined);
      inFlight.push(staged);
      if (inFlight.length >= BATCHES_IN_FLIGHT) await writeNext();
    };
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
      batch.push(source);
      if (batch.length >= BATCH_ROWS) {
        await submit(batch);
        batch = [];
      }
    }
    if (!columns) throw new ImportFileError('empty_file', null);
    if (batch.length > 0) await submit(batch);
    while (inFlight.length > 0) await writeNext();
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
  if (contacts.distinct) await markDistinctContacts(deps.db, record.id);
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
    const { rows } = await tx.query<{
      status: string;
      incident_id: number;
      rows_valid: number;
      distinct_contacts: boolean;
    }>('SELECT status, incident_id, rows_valid, distinct_contacts FROM imports WHERE id = $1 FOR UPDATE', [
      importId,
    ]);
    const current = rows[0];
    if (!current) throw new NotFoundError(`There is no import ${importId}.`);
    if (current.status !== 'validating' && current.status !== 'needs_review')
      throw new ConflictError('This import has already been completed or discarded.');
    if (current.rows_valid === 0) throw new ConflictError('This import has no valid rows to import.');
    const merged = await mergeStagedRows(tx, importId, current.incident_id, {
      distinctContacts: current.distinct_contacts,
    });
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
