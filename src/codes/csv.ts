import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { createCodeFileValidator, type CodeFileResult } from './rules.js';

/**
 * Reads a vendor's code file (CSV, UTF-8, with or without a byte-order mark) a record at a time and
 * validates it as it goes. A quoted field may span lines; a record's line is the one it ends on.
 */
export async function readCodeFile(source: string | Buffer | Readable): Promise<CodeFileResult> {
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: false,
  });
  const input = typeof source === 'string' || Buffer.isBuffer(source) ? Readable.from([source]) : source;
  input.pipe(parser);
  input.on('error', (error) => parser.destroy(error));
  const validator = createCodeFileValidator();
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      validator.add({ line: info.lines, cells: record });
    }
  } catch (error) {
    // csv-parse names what it could not read (an unclosed quote) and where; anything else is ours.
    if (error instanceof CsvError) {
      const line = typeof error.lines === 'number' ? error.lines : 0;
      return { ok: false, problems: [], file: { problem: 'malformed', line } };
    }
    throw error;
  }
  return validator.result();
}
