import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { csrfFrom, makeStaffAccount, signedInAgent } from '../support/console.js';
import type TestAgent from 'supertest/lib/agent.js';

const GOOD_ROWS = [
  'name,email,phone,country,language,exposed_data_types',
  'Ada Martin,ada@example.org,,GB,en,names;email_addresses',
  'Bruno Okafor,,+33 6 12 34 56 78,FR,fr,names;phone_numbers',
];

describe('importing the people affected from the console', () => {
  let ctx: TestContext;
  let editor: TestAgent;
  beforeAll(async () => {
    ctx = await startTestContext();
    editor = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'editor'));
  });
  afterAll(async () => ctx?.close());

  async function upload(incidentId: number, csv: string, options: { acceptValidRows?: boolean } = {}) {
    const page = await editor.get(`/console/incidents/${incidentId}/imports`).expect(200);
    const request = editor
      .post(`/console/incidents/${incidentId}/imports`)
      .field('_csrf', csrfFrom(page.text));
    if (options.acceptValidRows) request.field('acceptValidRows', 'yes');
    const response = await request.attach('file', Buffer.from(csv), 'people.csv').expect(303);
    return editor.get(String(response.headers.location)).expect(200);
  }

  async function peopleOf(incidentId: number) {
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM people WHERE incident_id = $1',
      [incidentId],
    );
    return rows[0]!.n;
  }

  it('imports a clean file at once, normalized and encrypted', async () => {
    const incident = await makeIncident(ctx.deps);
    const page = await upload(incident.id, GOOD_ROWS.join('\n'));
    expect(page.text).toContain('Imported');
    expect(await peopleOf(incident.id)).toBe(2);
    const { rows } = await ctx.deps.db.query<{ dump: string }>(
      `SELECT string_agg(row_to_json(p)::text, ' ') AS dump FROM people p WHERE incident_id = $1`,
      [incident.id],
    );
    expect(rows[0]!.dump).not.toContain('ada@example.org');
    expect(rows[0]!.dump).not.toContain('Okafor');
    expect(rows[0]!.dump).toContain('"locale":"fr"');
  });

  it('imports nothing from a file with a bad row, names the line, and imports the fixed file', async () => {
    const incident = await makeIncident(ctx.deps);
    const bad = [...GOOD_ROWS, 'Chloé Dubois,chloe-at-example.org,,FR,fr,names'].join('\n');
    const review = await upload(incident.id, bad);
    expect(review.text).toContain('Nothing has been imported yet');
    expect(review.text).toMatch(
      /<td>4<\/td><td>email<\/td><td>c•••<\/td><td>The email address is not valid<\/td>/,
    );
    expect(review.text).not.toContain('chloe-at-example.org');
    expect(await peopleOf(incident.id)).toBe(0);

    const importId = /\/console\/imports\/(\d+)\/errors\.csv/.exec(review.text)?.[1];
    const download = await editor.get(`/console/imports/${importId}/errors.csv`).expect(200);
    expect(download.headers['content-type']).toContain('text/csv');
    expect(download.text.split('\n')[1]).toBe('4,email,c•••,The email address is not valid,email_invalid');

    const fixed = [...GOOD_ROWS, 'Chloé Dubois,chloe@example.org,,FR,fr,names'].join('\n');
    const done = await upload(incident.id, fixed);
    expect(done.text).toContain('Imported');
    expect(await peopleOf(incident.id)).toBe(3);
    // The file it replaced is discarded, with nothing left staged.
    const { rows } = await ctx.deps.db.query<{ status: string }>('SELECT status FROM imports WHERE id = $1', [
      importId,
    ]);
    expect(rows[0]!.status).toBe('discarded');
    const staged = await ctx.deps.db.query('SELECT 1 FROM import_rows WHERE import_id = $1', [importId]);
    expect(staged.rowCount).toBe(0);
  });

  it('numbers problems by spreadsheet row, past a cell with a line break, and shows the value masked', async () => {
    const incident = await makeIncident(ctx.deps);
    const csv = [
      'name,email,phone,postal_address,country',
      'Ada Martin,ada@example.org,,"1 High Street',
      'Bristol BS1 4QA",GB',
      'Bruno Okafor,,+44 7700 9001,,GB',
      'Chloé Dubois,chloe.dubois@@example.org,,,FR',
      'Dev Patel,dev@example.org,,,Britain',
    ].join('\n');
    const review = await upload(incident.id, csv);
    const rows = [...review.text.matchAll(/<tr><td>(\d+)<\/td><td>([a-z_]*)<\/td><td>([^<]*)<\/td>/g)].map(
      (match) => match.slice(1, 4),
    );
    // Physical lines 4, 5 and 6; rows 3, 4 and 5 in a spreadsheet, as the editor will look for them.
    expect(rows).toEqual([
      ['3', 'phone', '+44 •••• ••01'],
      ['4', 'email', 'c•••@e•••.org'],
      ['5', 'country', 'Britain'],
    ]);
    expect(review.text).not.toContain('7700 9001');
    expect(review.text).not.toContain('chloe.dubois');
    const importId = /\/console\/imports\/(\d+)\/errors\.csv/.exec(review.text)?.[1];
    const download = await editor.get(`/console/imports/${importId}/errors.csv`).expect(200);
    expect(download.text.split('\n').slice(1)).toEqual([
      '3,phone,\'+44 •••• ••01,"The phone number is not valid (add the country code, or fill in the country column)",phone_invalid',
      '4,email,c•••@e•••.org,The email address is not valid,email_invalid',
      '5,country,Britain,The country must be a two-letter code such as GB,country_invalid',
    ]);
  });

  it('names the spreadsheet row of a broken quote', async () => {
    const incident = await makeIncident(ctx.deps);
    const csv = [
      'name,email',
      '"Ada\nMartin",ada@example.org',
      '',
      'Bruno,bruno@example.org',
      'Chloé "x,y',
    ].join('\n');
    const page = await upload(incident.id, csv);
    expect(page.text).toContain('near row 5');
  });

  it('imports the good rows when the editor chooses to, after seeing the problems', async () => {
    const incident = await makeIncident(ctx.deps);
    const review = await upload(incident.id, [...GOOD_ROWS, 'Nobody At All,,,GB,en,names'].join('\n'));
    expect(review.text).toContain('No email address, phone number or postal address');
    await editor
      .post(String(/action="(\/console\/imports\/\d+\/accept)"/.exec(review.text)?.[1]))
      .type('form')
      .send({ _csrf: csrfFrom(review.text) })
      .expect(303);
    expect(await peopleOf(incident.id)).toBe(2);
  });

  it('merges duplicates by contact, in the file and across files, keeping the first reference code', async () => {
    const incident = await makeIncident(ctx.deps);
    await upload(
      incident.id,
      ['email,name,language', 'dup@example.org,First Name,en', 'DUP@example.org,Second Name,fr'].join('\n'),
    );
    const first = await ctx.deps.db.query<{ reference_hash: Buffer; locale: string }>(
      'SELECT reference_hash, locale FROM people WHERE incident_id = $1',
      [incident.id],
    );
    expect(first.rows).toHaveLength(1);
    expect(first.rows[0]!.locale).toBe('fr');
    const again = await upload(incident.id, ['email,language', 'dup@example.org,de'].join('\n'));
    expect(again.text).toMatch(/Merged with people already on file[\s\S]*?<dd>1<\/dd>/);
    const after = await ctx.deps.db.query<{ reference_hash: Buffer; locale: string }>(
      'SELECT reference_hash, locale FROM people WHERE incident_id = $1',
      [incident.id],
    );
    expect(after.rows).toHaveLength(1);
    expect(after.rows[0]!.locale).toBe('de');
    expect(after.rows[0]!.reference_hash.equals(first.rows[0]!.reference_hash)).toBe(true);
  });

  it('explains a file whose header it does not understand', async () => {
    const incident = await makeIncident(ctx.deps);
    const page = await upload(incident.id, 'email,fone\na@example.org,123');
    expect(page.text).toContain('The first row has a column we do not recognise: &#34;fone&#34;');
  });

  it('reads nothing from an upload without the page token', async () => {
    const incident = await makeIncident(ctx.deps);
    await editor
      .post(`/console/incidents/${incident.id}/imports`)
      .field('_csrf', 'forged')
      .attach('file', Buffer.from(GOOD_ROWS.join('\n')), 'people.csv')
      .expect(403);
    expect(await peopleOf(incident.id)).toBe(0);
  });
});
