import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createVault } from '../../src/platform/vault.js';
import { stageBatch, type StageBatchInput } from '../../src/imports/stage.js';
import { threadPoolStager } from '../../src/imports/stage-pool.js';
import { readHeader } from '../../src/imports/validate.js';

const keys = {
  encryptionKeys: { current: crypto.randomBytes(32), previous: [] },
  lookupHmacKey: crypto.randomBytes(32),
};
const vault = createVault(keys.encryptionKeys, keys.lookupHmacKey);
const header = readHeader(['name', 'email', 'phone', 'country']);
const columns = header.ok ? header.columns : [];
const input: StageBatchInput = {
  importId: 7,
  columns,
  defaultLocale: 'en',
  currentYear: 2026,
  simulated: { email: true, phone: true },
  records: [
    { line: 2, cells: ['Ada Martin', 'ada@example.org', '', 'GB'] },
    { line: 3, cells: ['Bruno', 'not-an-email', '12', 'GB'] },
    { line: 4, cells: ['Chloé', 'chloe@example.org'] },
    { line: 5, cells: ['Dev', '', '+44 7400 123456', 'GB'] },
  ],
};
/** The staged COPY lines, split into their tab-separated fields. */
const rows = (copyText: string) =>
  copyText
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));

describe('staging a batch of import rows', () => {
  const pool = threadPoolStager(keys, 2);
  afterAll(() => pool.close());

  it('stages the valid rows in file order and lists every problem of the others by line', () => {
    const staged = stageBatch(vault, input);
    expect(staged.valid).toBe(2);
    expect(staged.invalid).toBe(2);
    expect(staged.errors).toEqual([
      { line: 3, column: 'email', reason: 'email_invalid', value: 'n•••' },
      { line: 3, column: 'phone', reason: 'phone_invalid', value: '••' },
      { line: 4, column: null, reason: 'wrong_number_of_columns', value: null },
    ]);
    const [ada, dev] = rows(staged.copyText);
    expect(ada?.slice(0, 2)).toEqual(['7', '2']);
    expect(dev?.slice(0, 2)).toEqual(['7', '5']);
    // name_enc and phone_enc: sealed, and they open to the normalized values.
    expect(vault.open(ada![9]!)).toBe('Ada Martin');
    expect(vault.open(dev![11]!)).toBe('+447400123456');
  });

  it('gives the same result on the thread pool, sealed and hashed with the same keys', async () => {
    const local = stageBatch(vault, input);
    const threaded = await pool.stage(input);
    expect(threaded.valid).toBe(local.valid);
    expect(threaded.errors).toEqual(local.errors);
    const [localAda] = rows(local.copyText);
    const [threadedAda] = rows(threaded.copyText);
    // Keyed hashes (dedupe, email) match; sealed values differ by IV but open to the same text.
    expect(threadedAda![2]).toBe(localAda![2]);
    expect(threadedAda![5]).toBe(localAda![5]);
    expect(vault.open(threadedAda![9]!)).toBe('Ada Martin');
  });
});
