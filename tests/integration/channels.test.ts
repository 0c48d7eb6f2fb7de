import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeApprovedCampaign } from '../support/factories.js';
import { startProviders, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import { twilioSignature, type FakeProviders, type RecordedRequest } from '../fakes/provider-server.js';
import { REDACTED_FIELDS } from '../../src/platform/logger.js';
import { makeStaffAccount, postForm, signedInAgent } from '../support/console.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { insertIncidentUpdate, type Incident } from '../../src/incidents/store.js';
import type { MessageKind } from '../../src/notices/render.js';

describe('every channel through its official SDK, and the call and letter that follow', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  let incident: Incident;
  const logs: string[] = [];
  const codes = new Map<string, string>();
  let campaignId = 0;

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'debug', redact: { paths: REDACTED_FIELDS, censor: '[redacted]' } }, sink);
    ctx = await startTestContext({ workers: true, env: providers.env, logger });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
    incident = await makeIncident(ctx.deps, { helplines: { en: '+44 800 111 2222', fr: '+33 800 000 000' } });
    const people = [
      makePerson({ name: 'Ada Lovelace', email: 'ada@example.com' }),
      makePerson({
        name: 'Sam Texter',
        email: null,
        phone: '+447400123001',
        preferredChannel: 'sms',
        locale: 'fr',
      }),
      makePerson({
        name: 'Vic Listener',
        email: null,
        phone: '+447400123002',
        locale: 'fr',
        accessibilityNeeds: ['visually_impaired'],
      }),
      makePerson({
        name: 'Pat Postal',
        email: null,
        postalAddress: '7 Mill Lane\nYork\nYO1 7HH',
        accessibilityNeeds: ['large_print', 'no_internet'],
      }),
    ];
    const stored = await makePeople(ctx.deps, incident.id, people);
    people.forEach((person, index) => codes.set(person.name!, stored[index]!.referenceCode!));
    campaignId = await runCampaign('initial_notice');
  });
  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });

  async function runCampaign(kind: MessageKind, updateId: number | null = null): Promise<number> {
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id, { kind, updateId });
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually('every message to be accepted', async () => {
      const { rows } = await ctx.deps.db.query<{ status: string }>(
        'SELECT status FROM messages WHERE campaign_id = $1',
        [campaign.id],
      );
      return rows.length === 4 && rows.every((r) => ['sent', 'delivered', 'answered'].includes(r.status));
    });
    return campaign.id;
  }

  const byKind = (kind: RecordedRequest['kind']) => fake.requests.filter((r) => r.kind === kind);

  it('emails the HTML and text notice with our message id as the only custom arg and no tracking', () => {
    // What Ada received: her personalization, with her values in place, whether or not her email
    // shared a request with others (SENDGRID_BATCH_SIZE).
    const emails = fake.sendgridMessages.filter((m) => m.to === 'ada@example.com');
    expect(emails).toHaveLength(1);
    const email = emails[0]!;
    expect(email.text).toContain(codes.get('Ada Lovelace'));
    expect(email.text).toContain('What happened');
    expect(email.html).toContain('<html lang="en" dir="ltr">');
    expect(email.html).toContain(codes.get('Ada Lovelace'));
    expect(email.html).not.toMatch(/<img/);
    expect(Object.keys(email.customArgs)).toEqual(['candor_message_id']);
    expect(email.customArgs.candor_message_id).toMatch(/^\d+$/);
    // The first notice is a duty, not a mailing: no unsubscribe.
    expect(email.headers['List-Unsubscribe']).toBeUndefined();
  });

  it('texts the person in their language with the link, the code and a status callback', () => {
    const sms = byKind('twilio-sms')[0]!.body as Record<string, string>;
    expect(sms.To).toBe('+447400123001');
    expect(sms.Body).toContain('incident de sécurité');
    expect(sms.Body).toContain(codes.get('Sam Texter'));
    expect(sms.Body).toContain(`${ctx.baseUrl}/incidents/${incident.slug}`);
    expect(sms.StatusCallback).toMatch(new RegExp(`^${ctx.baseUrl}/webhooks/twilio/status\\?message=\\d+$`));
  });

  it('calls with answering-machine detection that waits for the beep, and callback URLs for TwiML and status', () => {
    const call = byKind('twilio-voice')[0]!.body as Record<string, string>;
    expect(call.To).toBe('+447400123002');
    expect(call.MachineDetection).toBe('DetectMessageEnd');
    expect(call.Url).toMatch(new RegExp(`^${ctx.baseUrl}/webhooks/twilio/voice\\?message=\\d+$`));
    expect(call.StatusCallback).toMatch(/\/webhooks\/twilio\/status\?message=\d+$/);
  });

  async function twilioPost(url: string, params: Record<string, string>, token = TWILIO_AUTH_TOKEN) {
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': twilioSignature(token, url, params),
      },
      body: new URLSearchParams(params),
    });
  }

  it('answers the call with TwiML in French, a French voice, the code spelt out and the menu', async () => {
    const url = (byKind('twilio-voice')[0]!.body as Record<string, string>).Url!;
    const response = await twilioPost(url, { CallSid: 'CA1', AnsweredBy: 'human' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/xml');
    const twiml = await response.text();
    expect(twiml).toContain('<Say language="fr-FR" voice="Polly.Lea-Neural">');
    expect(twiml).toContain(codes.get('Vic Listener')!.split('-')[0]!.split('').join(' '));
    expect(twiml).toContain('appuyez sur 2');
    expect(twiml).toMatch(/<Gather numDigits="1" action="[^"]+\/webhooks\/twilio\/voice\/menu\?message=\d+"/);
  });

  it('connects to the French helpline on 2 and repeats on 1', async () => {
    const url = (byKind('twilio-voice')[0]!.body as Record<string, string>).Url!.replace(
      '/voice?',
      '/voice/menu?',
    );
    const two = await (await twilioPost(url, { CallSid: 'CA1', Digits: '2' })).text();
    expect(two).toContain('<Dial answerOnBridge="true">+33800000000</Dial>');
    const one = await (await twilioPost(url, { CallSid: 'CA1', Digits: '1' })).text();
    expect(one).toContain('Ceci est un message important');
    expect(one).not.toContain('<Dial');
  });

  it('leaves an answering machine a short call-back message', async () => {
    const url = (byKind('twilio-voice')[0]!.body as Record<string, string>).Url!;
    const twiml = await (await twilioPost(url, { CallSid: 'CA1', AnsweredBy: 'machine_end_beep' })).text();
    expect(twiml).toContain('Merci de nous rappeler');
    expect(twiml).not.toContain(codes.get('Vic Listener'));
    expect(twiml).toContain('<Hangup/>');
  });

  it('refuses TwiML requests that are unsigned or signed with the wrong token', async () => {
    const url = (byKind('twilio-voice')[0]!.body as Record<string, string>).Url!;
    expect((await twilioPost(url, { CallSid: 'CA1' }, 'wrong-token')).status).toBe(403);
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'CallSid=CA1',
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).not.toContain('Say');
  });

  it('records that the call was answered', async () => {
    await fake.settled();
    const { rows } = await ctx.deps.db.query<{ status: string }>(
      "SELECT status FROM messages WHERE campaign_id = $1 AND channel = 'voice'",
      [campaignId],
    );
    expect(rows[0]!.status).toBe('answered');
  });

  it('lets nobody without a staff session read the letters or mark them posted', async () => {
    // The letters used to be served under /sandbox/letters with no access check at all.
    for (const path of [
      `/sandbox/letters/campaigns/${campaignId}/letters.pdf`,
      `/console/campaigns/${campaignId}/letters.pdf`,
    ]) {
      const response = await fetch(`${ctx.baseUrl}${path}`, { redirect: 'manual' });
      expect(response.status, path).not.toBe(200);
      expect(response.headers.get('content-type') ?? '', path).not.toContain('pdf');
    }
    for (const path of [
      `/sandbox/letters/campaigns/${campaignId}/letters/posted`,
      `/console/campaigns/${campaignId}/letters/posted`,
    ]) {
      const response = await fetch(`${ctx.baseUrl}${path}`, { method: 'POST', redirect: 'manual' });
      expect([303, 403, 404], path).toContain(response.status);
    }
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM letter_batches WHERE campaign_id = $1',
      [campaignId],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('prints the letter in large print for the person who asked, and lets staff mark the batch posted', async () => {
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
    expect(response.headers['content-type']).toBe('application/pdf');
    const pdf = await getDocument({ data: new Uint8Array(response.body as Buffer), disableFontFace: true })
      .promise;
    const page = await pdf.getPage(1);
    const items = (await page.getTextContent()).items.filter((i) => 'str' in i) as {
      str: string;
      height: number;
    }[];
    const text = items.map((i) => i.str).join(' ');
    expect(text).toContain(codes.get('Pat Postal'));
    expect(text).toContain('7 Mill Lane');
    expect(items.find((i) => i.str.startsWith('We are writing'))!.height).toBeGreaterThanOrEqual(16);

    const posted = await postForm(
      agent,
      `/console/campaigns/${campaignId}/letters`,
      `/console/campaigns/${campaignId}/letters/posted`,
      {},
    );
    expect(posted.status).toBe(303);
    const { rows } = await ctx.deps.db.query<{ posted_at: Date | null }>(
      'SELECT posted_at FROM letters WHERE campaign_id = $1',
      [campaignId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.posted_at).toBeInstanceOf(Date);
    const batch = await ctx.deps.db.query<{ posted_by: number | null }>(
      'SELECT posted_by FROM letter_batches WHERE campaign_id = $1',
      [campaignId],
    );
    expect(batch.rows.map((row) => row.posted_by)).toContain(editor.id);
  });

  it('puts a one-click unsubscribe on update emails, and the link stops them', async () => {
    await ctx.deps.db.query("UPDATE campaigns SET status = 'completed'");
    const update = await insertIncidentUpdate(ctx.deps.db, {
      incidentId: incident.id,
      texts: { en: { title: 'Access closed', body: 'The old backup is gone.' } },
      publishedAt: new Date(),
    });
    const before = fake.sendgridMessages.length;
    await runCampaign('update', update.id);
    const emails = fake.sendgridMessages.slice(before);
    expect(emails.map((m) => m.to)).toEqual(['ada@example.com']);
    const email = emails[0]!;
    expect(email.subject).toContain('Access closed');
    const header = email.headers['List-Unsubscribe'] ?? '';
    expect(header).toMatch(new RegExp(`^<${ctx.baseUrl}/notices/unsubscribe/\\d+\\.[\\w-]+>$`));
    expect(email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const url = header.slice(1, -1);

    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(`${url}x`, { method: 'POST' })).status).toBe(404);
    const done = await fetch(url, {
      method: 'POST',
      body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }),
    });
    expect(done.status).toBe(200);
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM people WHERE updates_opted_out_at IS NOT NULL',
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('keeps contacts, names, addresses and reference codes out of the logs', () => {
    const text = logs.join('');
    expect(text).toContain('call answered');
    for (const secret of [
      'ada@example.com',
      '+447400123001',
      '+447400123002',
      'Lovelace',
      'Mill Lane',
      ...codes.values(),
    ])
      expect(text).not.toContain(secret);
  });
});
