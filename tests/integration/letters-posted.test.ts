import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { csrfFrom, makeStaffAccount, postForm, signedInAgent } from '../support/console.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { markLettersPosted } from '../../src/letters/service.js';

describe('printing and posting a campaign’s letters', () => {
  let ctx: TestContext;
  let campaignId = 0;

  beforeAll(async () => {
    ctx = await startTestContext({
      workers: true,
      env: {
        LETTER_RETURN_ADDRESS: 'Acme Bikes Ltd, 1 Dock Road, Bristol BS1 1AA',
        DEFAULT_TIME_ZONE: 'Europe/London',
      },
    });
    const incident = await makeIncident(ctx.deps);
    await makePeople(ctx.deps, incident.id, [
      makePerson({ name: 'Pat Postal', email: null, postalAddress: '7 Mill Lane\nYork\nYO1 7HH' }),
      makePerson({ name: 'Lou Letter', email: null, postalAddress: '9 Quay Street\nHull\nHU1 1AA' }),
    ]);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    campaignId = campaign.id;
    await startCampaign(ctx.deps, { campaignId });
    await eventually('both letters filed for printing', async () => {
      const { rows } = await ctx.deps.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM letters WHERE campaign_id = $1',
        [campaignId],
      );
      return rows[0]!.n === 2;
    });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const lettersPage = () => `/console/campaigns/${campaignId}/letters`;

  it('refuses to mark letters posted before they are printed, and offers no button for it', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const agent = await signedInAgent(ctx.baseUrl, editor);
    const page = await agent.get(lettersPage()).expect(200);
    expect(page.text).toContain('Download the letters (PDF)');
    expect(page.text).not.toContain('Mark this batch posted');
    const refused = await agent
      .post(`${lettersPage()}/posted`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    expect(refused.status).toBe(409);
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(posted_at)::int AS n FROM letters WHERE campaign_id = $1',
      [campaignId],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('prints the return address in the envelope window, above the recipient', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const agent = await signedInAgent(ctx.baseUrl, editor);
    const response = await agent
      .get(`/console/campaigns/${campaignId}/letters.pdf`)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(response.status).toBe(200);
    const pdf = await getDocument({ data: new Uint8Array(response.body as Buffer), disableFontFace: true })
      .promise;
    const page = await pdf.getPage(1);
    const items = (await page.getTextContent()).items.filter((i) => 'str' in i) as {
      str: string;
      transform: number[];
    }[];
    const returnLine = items.find((i) => i.str.includes('1 Dock Road'));
    const recipient = items.find((i) => i.str === 'Pat Postal' || i.str === 'Lou Letter');
    expect(returnLine?.str).toBe('Acme Bikes Ltd · 1 Dock Road · Bristol BS1 1AA');
    // PDF y grows upwards: the return address sits above the recipient's name.
    expect(returnLine!.transform[5]).toBeGreaterThan(recipient!.transform[5]!);
  });

  it('marks the printed batch posted from the letters page, with who and when, audited', async () => {
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const agent = await signedInAgent(ctx.baseUrl, editor);
    const before = await agent.get(lettersPage()).expect(200);
    expect(before.text).toContain('Mark this batch posted');

    const posted = await postForm(agent, lettersPage(), `${lettersPage()}/posted`, {});
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toBe(`${lettersPage()}?done=posted`);

    const batch = await ctx.deps.db.query<{ posted_at: Date; posted_by: number }>(
      'SELECT posted_at, posted_by FROM letter_batches WHERE campaign_id = $1',
      [campaignId],
    );
    expect(batch.rows[0]!.posted_by).toBe(editor.id);
    const postedAt = batch.rows[0]!.posted_at;

    // Each letter, and its message, now goes out on the day it was posted.
    const letters = await ctx.deps.db.query<{ posted_at: Date; sent_at: Date; status: string }>(
      `SELECT l.posted_at, m.sent_at, m.status FROM letters l JOIN messages m ON m.id = l.message_id
       WHERE l.campaign_id = $1`,
      [campaignId],
    );
    expect(letters.rows).toHaveLength(2);
    for (const row of letters.rows) {
      expect(row.posted_at.getTime()).toBe(postedAt.getTime());
      expect(row.sent_at.getTime()).toBe(postedAt.getTime());
      expect(row.status).toBe('sent');
    }

    const audit = await ctx.deps.db.query<{ staff_id: number; subject_type: string; subject_id: number }>(
      `SELECT staff_id, subject_type, subject_id FROM audit_log WHERE action = 'letters.batch.posted'`,
    );
    expect(audit.rows).toEqual([{ staff_id: editor.id, subject_type: 'campaign', subject_id: campaignId }]);

    const after = await agent.get(`${lettersPage()}?done=posted`).expect(200);
    expect(after.text).toContain('The batch is marked posted.');
    expect(after.text).not.toContain('<button type="submit">Mark this batch posted');
    const state = /data-testid="letters-posted">([^<]*)</.exec(after.text)?.[1] ?? '';
    // In the organisation's zone, named.
    expect(state).toMatch(/^2 letters, posted .+ (GMT|BST) by Test editor$/);
  });

  it('keeps the first date and person when the batch is marked posted again', async () => {
    const first = await ctx.deps.db.query<{ posted_at: Date; posted_by: number }>(
      'SELECT posted_at, posted_by FROM letter_batches WHERE campaign_id = $1',
      [campaignId],
    );
    const other = await makeStaffAccount(ctx.deps, 'editor');
    const again = await markLettersPosted(ctx.deps, { campaignId, staffId: other.id });
    expect(again.newlyPosted).toBe(0);
    expect(again.batch.postedAt?.getTime()).toBe(first.rows[0]!.posted_at.getTime());
    expect(again.batch.postedBy).toBe(first.rows[0]!.posted_by);
  });

  it('lets only staff who prepare sends see the letters page', async () => {
    const viewer = await makeStaffAccount(ctx.deps, 'viewer');
    const agent = await signedInAgent(ctx.baseUrl, viewer);
    await agent.get(lettersPage()).expect(403);
  });
});
