import type { Db } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { Logger } from '../platform/logger.js';
import { SEALED_COLUMNS } from './sealed-columns.js';

/** Each table's row key, for paging and for writing a row back. */
const ROW_KEY: Readonly<Record<string, readonly string[]>> = {
  import_rows: ['import_id', 'line'],
  letters: ['message_id'],
};
const keyOf = (table: string) => ROW_KEY[table] ?? ['id'];
const PAGE = 500;

export interface RotationReport {
  table: string;
  rows: number;
}

/**
 * Rewrites every sealed value that is not under the current encryption key, a page at a time, so
 * the previous key can then be dropped from ENCRYPTION_KEYS_PREVIOUS. A value changed by someone
 * else between our read and our write is left as they wrote it (it is on the current key already).
 * Safe to stop and run again; the application keeps running meanwhile.
 */
export async function rotateKeys(deps: { db: Db; vault: Vault; logger: Logger }): Promise<RotationReport[]> {
  const current = `v1.${deps.vault.currentKeyId}.%`;
  const reports: RotationReport[] = [];
  for (const [table, columns] of Object.entries(SEALED_COLUMNS)) {
    const key = keyOf(table);
    const keyList = key.join(', ');
    const stale = columns.map((column) => `(${column} IS NOT NULL AND ${column} NOT LIKE $1)`).join(' OR ');
    let after: unknown[] | null = null;
    let rows = 0;
    for (;;) {
      const { rows: page }: { rows: Record<string, unknown>[] } = await deps.db.query(
        `SELECT ${keyList}, ${columns.join(', ')} FROM ${table}
         WHERE (${stale}) ${after ? `AND (${keyList}) > (${key.map((_, i) => `$${i + 2}`).join(', ')})` : ''}
         ORDER BY ${keyList} LIMIT ${PAGE}`,
        [current, ...(after ?? [])],
      );
      if (page.length === 0) break;
      await writeBack(deps, table, key, columns, page);
      rows += page.length;
      after = key.map((column) => page[page.length - 1]![column]);
    }
    reports.push({ table, rows });
    if (rows > 0) deps.logger.info({ table, rows }, 'sealed values moved to the current key');
  }
  return reports;
}

/** One statement per page: each column takes its resealed value only if it still holds what we read. */
async function writeBack(
  deps: { db: Db; vault: Vault },
  table: string,
  key: readonly string[],
  columns: readonly string[],
  page: Record<string, unknown>[],
): Promise<void> {
  const reseal = (value: unknown) =>
    typeof value === 'string' ? deps.vault.seal(deps.vault.open(value)) : null;
  const params: unknown[][] = [
    ...key.map((column) => page.map((row) => row[column])),
    ...columns.flatMap((column) => [
      page.map((row) => row[column] ?? null),
      page.map((row) => reseal(row[column])),
    ]),
  ];
  const keyTypes = key.map((column) => (column === 'line' ? 'int' : 'bigint'));
  const names = [...key.map((k) => `k_${k}`), ...columns.flatMap((c) => [`old_${c}`, `new_${c}`])];
  const unnest = params.map((_, i) => `$${i + 1}::${i < key.length ? keyTypes[i] : 'text'}[]`).join(', ');
  await deps.db.query(
    `UPDATE ${table} t SET ${columns
      .map((c) => `${c} = CASE WHEN t.${c} IS NOT DISTINCT FROM v.old_${c} THEN v.new_${c} ELSE t.${c} END`)
      .join(', ')}
     FROM unnest(${unnest}) AS v(${names.join(', ')})
     WHERE ${key.map((k) => `t.${k} = v.k_${k}`).join(' AND ')}`,
    params,
  );
}
