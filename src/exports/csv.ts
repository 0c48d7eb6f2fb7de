/** A CSV cell that a spreadsheet will not run as a formula. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly (string | number | Date | null)[]): string {
  return `${values
    .map((value) =>
      csvCell(value === null ? '' : value instanceof Date ? value.toISOString() : String(value)),
    )
    .join(',')}\n`;
}
