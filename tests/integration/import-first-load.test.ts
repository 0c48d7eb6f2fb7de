import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePerson } from '../support/factories.js';
import { commitImport, csvRecords, runImport } from '../../src/imports/run.js';
import { upsertPeople, type PersonInput } from '../../src/people/store.js';
import { withTransaction } from '../../src/platform/db.js';

/**
 * The first import into an incident with nobody yet inserts its rows without a merge (unsorted when
 * the file's contacts are distinct); a later import merges. Both keep all-or-nothing and de-duplication.
 */
const HEADER = 'name,email,phone,country';

/** Someone added through the API (or the console) rather than a file. */
const apiPerson = (email: string): PersonInput => makePerson({ name: 'Ada (by the API)', email });

describe('the first import into an empty incident, and later ones', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(async () => ctx?.close());

  const importCsv = (incidentId: number, lines: string[], acceptValidRows = false) =>
    runImport(ctx.deps, {
      incidentId,
      createdBy: null,
      filename: 'people.csv',
      records: csvRecords(Readable.from([lines.join('\n')])),
      acceptValidRows,
    });

  /** The incident's people, decrypted: name, email and reference code. */
  async function peopleOf(incidentId: number) {
    const { rows } = await ctx.deps.db.query<{
      name_enc: string | null;
      email_enc: string | null;
      reference_enc: string;
    }>('SELECT name_enc, email_enc, reference_enc FROM people WHERE incident_id = $1 ORDER BY id', [
      incidentId,
    ]);
    const open = (value: string | null) => (value === null ? null : ctx.deps.vault.open(value));
    return rows.map((row) => ({
      name: open(row.name_enc),
      email: open(row.email_enc),
      reference: open(row.reference_enc),
    }));
  }

  async function distinctFlag(importId: number) {
    const { rows } = await ctx.deps.db.query<{ distinct_contacts: boolean }>(
      'SELECT distinct_contacts FROM imports WHERE id = $1',
      [importId],
    );
    return rows[0]!.distinct_contacts;
  }

  async function stagedRows(importId: number) {
    const { rowCount } = await ctx.deps.db.query('SELECT 1 FROM import_rows WHERE import_id = $1', [
      importId,
    ]);
    return rowCount;
  }

  it('inserts a file of distinct contacts into an empty incident, every row, nothing left staged', async () => {
    const incident = await makeIncident(ctx.deps);
    const rows = Array.from({ length: 1_203 }, (_, i) => `Person ${i},person${i}@example.org,,GB`);
    const result = await importCsv(incident.id, [HEADER, ...rows]);
    expect(result.status).toBe('completed');
    expect(result).toMatchObject({ rowsValid: 1_203, rowsInvalid: 0, peopleCreated: 1_203, peopleMerged: 0 });
    expect(await distinctFlag(result.id)).toBe(true);
    const people = await peopleOf(incident.id);
    expect(people).toHaveLength(1_203);
    expect(new Set(people.map((person) => person.email)).size).toBe(1_203);
    expect(people.find((person) => person.email === 'person1202@example.org')?.name).toBe('Person 1202');
    expect(new Set(people.map((person) => person.reference)).size).toBe(1_203);
    expect(await stagedRows(result.id)).toBe(0);
  });

  it('collapses two rows for one contact in the first file to the later row', async () => {
    const incident = await makeIncident(ctx.deps);
    const result = await importCsv(incident.id, [
      HEADER,
      'Ada Martin,ada@example.org,,GB',
      'Bruno Okafor,bruno@example.org,,GB',
      'Ada M. Martin,ADA@example.org ,,GB',
    ]);
    expect(result).toMatchObject({ status: 'completed', rowsValid: 3, peopleCreated: 2, peopleMerged: 1 });
    expect(await distinctFlag(result.id)).toBe(false);
    const people = await peopleOf(incident.id);
    expect(people.map((person) => person.name).sort()).toEqual(['Ada M. Martin', 'Bruno Okafor']);
  });

  it('merges a later file into the people already there, keeping their reference codes', async () => {
    const incident = await makeIncident(ctx.deps);
    await importCsv(incident.id, [HEADER, 'Ada Martin,ada@example.org,,GB', 'Bruno,bruno@example.org,,GB']);
    const before = await peopleOf(incident.id);
    const later = await importCsv(incident.id, [
      HEADER,
      'Ada Lovelace,ada@example.org,,GB',
      'Chloé Dubois,chloe@example.org,,FR',
    ]);
    expect(later).toMatchObject({ status: 'completed', peopleCreated: 1, peopleMerged: 1 });
    // Distinct within the file, but the incident has people: merged, not inserted.
    expect(await distinctFlag(later.id)).toBe(true);
    const after = await peopleOf(incident.id);
    expect(after).toHaveLength(3);
    const ada = after.find((person) => person.email === 'ada@example.org')!;
    expect(ada.name).toBe('Ada Lovelace');
    expect(ada.reference).toBe(before.find((person) => person.email === 'ada@example.org')!.reference);
  });

  it('leaves nothing in people when a row in the middle is wrong, and inserts all once the editor accepts', async () => {
    const incident = await makeIncident(ctx.deps);
    const rows = Array.from({ length: 1_500 }, (_, i) =>
      i === 777 ? `Wrong ${i},not-an-email,,GB` : `Person ${i},person${i}@example.org,,GB`,
    );
    const review = await importCsv(incident.id, [HEADER, ...rows]);
    expect(review).toMatchObject({ status: 'needs_review', rowsValid: 1_499, rowsInvalid: 1 });
    expect(await peopleOf(incident.id)).toHaveLength(0);
    const accepted = await commitImport(ctx.deps, review.id);
    expect(accepted).toMatchObject({ status: 'completed', peopleCreated: 1_499, peopleMerged: 0 });
    expect(await peopleOf(incident.id)).toHaveLength(1_499);
    expect(await stagedRows(review.id)).toBe(0);
  });

  it('leaves nothing anywhere when the file breaks off in the middle', async () => {
    const incident = await makeIncident(ctx.deps);
    const rows = Array.from({ length: 1_200 }, (_, i) => `Person ${i},person${i}@example.org,,GB`);
    rows.splice(1_100, 0, 'Broken,"unterminated@example.org,,GB');
    const result = await importCsv(incident.id, [HEADER, ...rows]);
    expect(result.status).toBe('failed');
    expect(result.failure).toMatch(/^csv_malformed/);
    expect(await peopleOf(incident.id)).toHaveLength(0);
    expect(await stagedRows(result.id)).toBe(0);
  });

  it('merges instead when someone was added to the incident after the file was read', async () => {
    const incident = await makeIncident(ctx.deps);
    const review = await importCsv(incident.id, [
      HEADER,
      'Ada Martin,ada@example.org,,GB',
      'Wrong,not-an-email,,GB',
      'Bruno,bruno@example.org,,GB',
    ]);
    expect(review.status).toBe('needs_review');
    expect(await distinctFlag(review.id)).toBe(true);
    const [added] = await upsertPeople(ctx.deps.db, ctx.deps.vault, incident.id, [
      apiPerson('ada@example.org'),
    ]);
    const accepted = await commitImport(ctx.deps, review.id);
    expect(accepted).toMatchObject({ status: 'completed', peopleCreated: 1, peopleMerged: 1 });
    const people = await peopleOf(incident.id);
    expect(people).toHaveLength(2);
    const ada = people.find((person) => person.email === 'ada@example.org')!;
    expect(ada.name).toBe('Ada Martin');
    expect(ada.reference).toBe(added!.referenceCode);
  });

  it('adds thousands of people in one call, past the parameters one statement can carry', async () => {
    const incident = await makeIncident(ctx.deps);
    const many = Array.from({ length: 4_500 }, (_, i) => apiPerson(`many${i}@example.org`));
    // The last row repeats the first contact: in one call, the later row wins, as in one page.
    const added = await upsertPeople(ctx.deps.db, ctx.deps.vault, incident.id, [
      ...many,
      { ...apiPerson('many0@example.org'), name: 'Later' },
    ]);
    expect(added).toHaveLength(4_500);
    const people = await peopleOf(incident.id);
    expect(people).toHaveLength(4_500);
    expect(people.find((person) => person.email === 'many0@example.org')!.name).toBe('Later');
  });

  it('falls back to the merge when someone is added while the rows are being inserted', async () => {
    const incident = await makeIncident(ctx.deps);
    const review = await importCsv(incident.id, [
      HEADER,
      'Ada Martin,ada@example.org,,GB',
      'Wrong,not-an-email,,GB',
      'Bruno,bruno@example.org,,GB',
    ]);
    expect(review.status).toBe('needs_review');
    // The API adds Ada in a transaction still open when the import starts: the import sees an empty
    // incident, its insert waits on Ada's unique key, and fails once the API commits.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let addedInside!: (pid: number) => void;
    const added = new Promise<number>((resolve) => (addedInside = resolve));
    const api = withTransaction(ctx.deps.db, async (tx) => {
      await upsertPeople(tx, ctx.deps.vault, incident.id, [apiPerson('ada@example.org')]);
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      addedInside(rows[0]!.pid);
      await released;
    });
    const apiPid = await added;
    const accepting = commitImport(ctx.deps, review.id);
    await eventually('the import waiting on the API transaction', async () => {
      const { rows } = await ctx.deps.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE $1 = ANY (pg_blocking_pids(pid)) AND query LIKE 'INSERT INTO people%'`,
        [apiPid],
      );
      return rows[0]!.n > 0;
    });
    release();
    await api;
    const accepted = await accepting;
    expect(accepted).toMatchObject({ status: 'completed', peopleCreated: 1, peopleMerged: 1 });
    const people = await peopleOf(incident.id);
    expect(people).toHaveLength(2);
    expect(people.find((person) => person.email === 'ada@example.org')!.name).toBe('Ada Martin');
  });
});
