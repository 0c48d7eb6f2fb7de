import fs from 'node:fs';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { CodeFileError, uploadCodes } from './service.js';
import type { CodeFileProblem } from './rules.js';

const PROBLEM_TEXT: Record<CodeFileProblem['problem'], string> = {
  empty: 'the code is empty',
  too_long: 'the code is longer than 200 characters',
  unprintable: 'the code contains characters that cannot be shown',
  duplicate_in_file: 'the same code as an earlier line',
  already_in_pool: 'this code is already in the pool',
};

/** `npx candor upload-codes <pool id> <file.csv>`: streams the file, so a vendor's million codes fit. */
export async function uploadCodesFromFile(
  deps: Pick<Deps, 'db' | 'vault'>,
  poolIdText: string | undefined,
  file: string | undefined,
): Promise<{ ok: boolean; message: string }> {
  const poolId = Number(poolIdText);
  if (!Number.isSafeInteger(poolId) || poolId <= 0 || !file) {
    return { ok: false, message: 'Usage: npx candor upload-codes <pool id> <file.csv>' };
  }
  if (!fs.existsSync(file)) return { ok: false, message: `There is no file ${file}.` };
  try {
    const result = await uploadCodes(deps, {
      poolId,
      file: fs.createReadStream(file),
      uploadedBy: null,
      source: 'cli',
    });
    return {
      ok: true,
      message: `Added ${result.added} codes to pool ${poolId}; ${result.available} are free.`,
    };
  } catch (error) {
    if (error instanceof NotFoundError) return { ok: false, message: `There is no code pool ${poolId}.` };
    if (!(error instanceof CodeFileError)) throw error;
    if (error.file) return { ok: false, message: `Nothing was added. ${error.message}` };
    const lines = error.problems.map(
      (problem) =>
        `  line ${problem.line}: ${PROBLEM_TEXT[problem.problem]}${problem.firstLine ? ` (line ${problem.firstLine})` : ''}`,
    );
    return { ok: false, message: ['Nothing was added. Fix these lines and run again:', ...lines].join('\n') };
  }
}
