import crypto from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startProviders, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import { makeStaffAccount, postForm, signedInAgent } from '../support/console.js';
import { twilioCallbackHeaders, type FakeProviders } from '../fakes/provider-server.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { replyAddress } from '../../src/channels/reply-address.js';
import type { Incident } from '../../src/incidents/store.js';
import { purgeDue } from '../../src/retention/purge.js';

const SECRET = 'inbound-secret-0123456789abcdef';
const USER = 'sendgrid-parse';
const PASSWORD = 'parse-password-0123456789';
const DOMAIN = 'reply.acme.example';
const MAX_BYTES = 20_000;
const HELPLINES = { en: '+44 800 111 2222', fr: '+33 800 111 222', es: '+34 900 111 222' };

describe('conversations: texts and emails back, and staff answers', () => {
  let ctx: TestContext;
  let fake: FakeProviders;

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    ctx = await startTestContext({
      workers: true,
      env: {
        ...providers.env,
        INBOUND_EMAIL_SECRET: SECRET,
        INBOUND_EMAIL_USER: USER,
        INBOUND_EMAIL_PASSWORD: PASSWORD,
        INBOUND_EMAIL_DOMAIN: DOMAIN,
        INBOUND_EMAIL_MAX_BYTES: String(MAX_BYTES),
      },
    });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
  });
  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });

  const newIncident = () => makeIncident(ctx.deps, { helplines: HELPLINES });
  let numbers = 0;
  const newNumber = () => `+4477009${10_000 + numbers++}`;

  /** A text as Twilio posts it to "A message comes in": signed with the account's auth token. */
  function text(from: string, body: string, options: { sid?: string; authToken?: string } = {}) {
    const params = {
      AccountSid: TWILIO_ACCOUNT_SID,
      MessageSid: options.sid ?? `SM${crypto.randomBytes(16).toString('hex')}`,
      From: from,
      To: '+15005550006',
      Body: body,
      NumMedia: '0',
    };
    const url = `${ctx.baseUrl}/webhooks/twilio/sms`;
    return request(ctx.server)
      .post('/webhooks/twilio/sms')
      .set(twilioCallbackHeaders(options.authToken ?? TWILIO_AUTH_TOKEN, url, params))
      .type('form')
      .send(params);
  }

  function twimlMessage(xml: string): string | null {
    return /<Message>([\s\S]*)<\/Message>/.exec(xml)?.[1] ?? null;
  }

  async function sendNotice(incident: Incident) {
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    return campaign;
  }

  async function messagesOf(campaignId: number) {
    const { rows } = await ctx.deps.db.query<{
      id: number;
      person_id: number;
      channel: string | null;
      status: string;
    }>(
      'SELECT id, person_id, channel, status FROM messages WHERE campaign_id = $1 ORDER BY person_id, attempt',
      [campaignId],
    );
    return rows;
  }

  async function supportRows(where: string, params: unknown[]) {
    const { rows } = await ctx.deps.db.query<{
      id: number;
      incident_id: number | null;
      person_id: number | null;
      kind: string;
      locale: string;
      attachments_dropped: number;
      dump: string;
    }>(
      `SELECT r.id, r.incident_id, r.person_id, r.kind, r.locale, r.attachments_dropped, row_to_json(r)::text AS dump
       FROM support_requests r WHERE ${where} ORDER BY r.id`,
      params,
    );
    return rows;
  }

  it('stops SMS on STOP in English, French and Spanish: the next notice goes by email or letter', async () => {
    const incident = await newIncident();
    const [en, fr, es, control] = [newNumber(), newNumber(), newNumber(), newNumber()];
    const people = await makePeople(ctx.deps, incident.id, [
      makePerson({ phone: en, preferredChannel: 'sms' }),
      makePerson({ phone: fr, preferredChannel: 'sms', locale: 'fr' }),
      makePerson({
        phone: es,
        email: null,
        postalAddress: 'Calle Mayor 1\n28013 Madrid',
        // A call is no use to them: without texts, a letter is what is left.
        accessibilityNeeds: ['hearing_impaired'],
        preferredChannel: 'sms',
        locale: 'es',
      }),
      makePerson({ phone: control, preferredChannel: 'sms' }),
    ]);

    const stopped = await text(en, 'STOP').expect(200);
    expect(stopped.type).toBe('text/xml');
    expect(twimlMessage(stopped.text)).toContain('no more texts');
    expect(twimlMessage((await text(fr, 'Arrêt').expect(200)).text)).toContain(
      'Vous ne recevrez plus de SMS',
    );
    expect(twimlMessage((await text(es, ' baja. ').expect(200)).text)).toContain('Ya no recibirá más SMS');
    const { rows: optOuts } = await ctx.deps.db.query<{ keyword: string; opted_out_at: Date }>(
      'SELECT keyword, opted_out_at FROM sms_opt_outs WHERE phone_hash = ANY($1::bytea[]) ORDER BY keyword',
      [[en, fr, es].map((phone) => ctx.deps.vault.hash('phone', phone))],
    );
    expect(optOuts.map((row) => row.keyword)).toEqual(['arrêt', 'baja', 'stop']);
    expect(optOuts.every((row) => row.opted_out_at instanceof Date)).toBe(true);

    const campaign = await sendNotice(incident);
    const messages = await eventually('every notice to be sent', async () => {
      const rows = await messagesOf(campaign.id);
      return rows.length === 4 && rows.every((row) => ['sent', 'delivered'].includes(row.status))
        ? rows
        : undefined;
    });
    const channelOf = (index: number) => messages.find((row) => row.person_id === people[index]!.id)!.channel;
    expect([channelOf(0), channelOf(1), channelOf(2), channelOf(3)]).toEqual([
      'email',
      'email',
      'letter',
      'sms',
    ]);
    const textedTo = fake.requests
      .filter((r) => r.kind === 'twilio-sms')
      .map((r) => (r.body as Record<string, string>).To);
    expect(textedTo).toContain(control);
    for (const number of [en, fr, es]) expect(textedTo).not.toContain(number);

    // START resumes texts to that number.
    expect(twimlMessage((await text(en, 'start').expect(200)).text)).toContain('on again');
    const { rows: left } = await ctx.deps.db.query('SELECT 1 FROM sms_opt_outs WHERE phone_hash = $1', [
      ctx.deps.vault.hash('phone', en),
    ]);
    expect(left).toHaveLength(0);
  });

  it('fails an SMS still on its way when the number texts STOP, and moves the person to their next channel', async () => {
    const incident = await newIncident();
    const number = newNumber();
    const [person] = await makePeople(ctx.deps, incident.id, [
      makePerson({ phone: number, preferredChannel: 'sms' }),
    ]);
    // The SMS is written and queued, then the number texts STOP before a worker takes it.
    await ctx.deps.queues.send.sms.pause();
    const campaign = await sendNotice(incident);
    await eventually('the SMS to be queued', async () =>
      (await messagesOf(campaign.id)).some((row) => row.channel === 'sms' && row.status === 'queued'),
    );
    await text(number, 'STOP').expect(200);
    await ctx.deps.queues.send.sms.resume();
    const rows = await eventually('the email after the stopped SMS', async () => {
      const found = await messagesOf(campaign.id);
      return found.length === 2 && ['sent', 'delivered'].includes(found[1]!.status) ? found : undefined;
    });
    expect(rows.map((row) => [row.person_id, row.channel])).toEqual([
      [person!.id, 'sms'],
      [person!.id, 'email'],
    ]);
    expect(rows[0]!.status).toBe('failed');
    expect(
      fake.requests.some((r) => r.kind === 'twilio-sms' && (r.body as Record<string, string>).To === number),
    ).toBe(false);
  });

  it('answers HELP with the helpline in the person’s language', async () => {
    const incident = await newIncident();
    const [fr, es] = [newNumber(), newNumber()];
    await makePeople(ctx.deps, incident.id, [
      makePerson({ phone: fr, locale: 'fr' }),
      makePerson({ phone: es, locale: 'es' }),
    ]);
    const french = twimlMessage((await text(fr, 'HELP').expect(200)).text)!;
    expect(french).toContain(HELPLINES.fr);
    expect(french).toContain('pour de l’aide');
    const spanish = twimlMessage((await text(es, 'Ayuda').expect(200)).text)!;
    expect(spanish).toContain(HELPLINES.es);
    expect(spanish).toContain('llame al');
    // A number we hold for nobody learns nothing about anyone: a general answer, in the word's language.
    const stranger = twimlMessage((await text(newNumber(), 'AIDE').expect(200)).text)!;
    expect(stranger).toContain('appelez le numéro indiqué');
    expect(stranger).not.toContain(HELPLINES.fr);
  });

  it('files any other text in the support queue, sealed, linked to the person and their language', async () => {
    const incident = await newIncident();
    const known = newNumber();
    const [person] = await makePeople(ctx.deps, incident.id, [makePerson({ phone: known, locale: 'fr' })]);
    const words = 'Est-ce que ma carte bancaire est en danger ?';
    const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
    const answer = await text(known, words, { sid }).expect(200);
    expect(twimlMessage(answer.text)).toBeNull();
    // Twilio retries a post it had no answer to: the same MessageSid files nothing new.
    await text(known, words, { sid }).expect(200);
    const stranger = newNumber();
    await text(stranger, 'Who is this?').expect(200);

    const [filed] = await supportRows('r.person_id = $1', [person!.id]);
    expect(filed).toMatchObject({ incident_id: incident.id, kind: 'sms_reply', locale: 'fr' });
    expect(await supportRows('r.person_id = $1', [person!.id])).toHaveLength(1);
    expect(filed!.dump).not.toContain('carte bancaire');
    expect(filed!.dump).not.toContain(known.slice(1));
    const unmatched = (await supportRows(`r.kind = 'sms_reply' AND r.person_id IS NULL`, [])).at(-1)!;
    expect(unmatched.incident_id).toBeNull();

    const agent = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'agent'));
    const page = await agent.get(`/console/support/${filed!.id}`).expect(200);
    expect(page.text).toContain(words.replace('?', ''));
    expect(page.text).toContain('Text reply');
    expect(page.text).toContain('Français');
    const queue = await agent.get('/console/support').expect(200);
    expect(queue.text).toContain(`/console/support/${unmatched.id}"`);
    expect(queue.text).toContain('Not matched to anyone on file');
  });

  it('refuses a text with a forged signature, and files nothing', async () => {
    const before = (await supportRows('true', [])).length;
    const forged = await text(newNumber(), 'STOP', { authToken: 'not-the-auth-token' });
    expect(forged.status).toBe(403);
    const unsigned = await request(ctx.server)
      .post('/webhooks/twilio/sms')
      .type('form')
      .send({ From: '+447700900999', Body: 'hello' });
    expect(unsigned.status).toBe(403);
    expect((await supportRows('true', [])).length).toBe(before);
  });

  /** An Inbound Parse post, multipart as SendGrid sends it. */
  function email(
    fields: Record<string, string>,
    options: { secret?: string; auth?: [string, string] | null; attachments?: number } = {},
  ) {
    let call = request(ctx.server).post(`/webhooks/inbound-email/${options.secret ?? SECRET}`);
    if (options.auth !== null) call = call.auth(...(options.auth ?? [USER, PASSWORD]));
    for (const [name, value] of Object.entries(fields)) call = call.field(name, value);
    for (let i = 1; i <= (options.attachments ?? 0); i++)
      call = call.attach(`attachment${i}`, Buffer.from(`file ${i}`), `scan-${i}.pdf`);
    return call;
  }

  it('files an emailed reply, sealed, linked through the notice’s Reply-To or the sender’s address', async () => {
    const incident = await newIncident();
    const [byReplyTo, bySender] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: 'ines.reply@example.pt', locale: 'pt' }),
      makePerson({ email: 'otto.sender@example.de', locale: 'de' }),
    ]);
    const campaign = await sendNotice(incident);
    const messages = await eventually('both notices to be sent', async () => {
      const rows = await messagesOf(campaign.id);
      return rows.length === 2 && rows.every((row) => ['sent', 'delivered'].includes(row.status))
        ? rows
        : undefined;
    });
    const notice = messages.find((row) => row.person_id === byReplyTo!.id)!;
    // Each email is a request of its own here, batches or not: a Reply-To per person is a header
    // SendGrid takes only per request (README, "Email in batches").
    const sent = fake.requests
      .filter((r) => r.kind === 'sendgrid')
      .map((r) => r.body as { personalizations: { to: { email: string }[] }[]; reply_to?: { email: string } })
      .find((body) => body.personalizations[0]!.to[0]!.email === 'ines.reply@example.pt')!;
    expect(sent.personalizations).toHaveLength(1);
    const address = replyAddress(ctx.config.lookupHmacKey, DOMAIN, notice.id);
    expect(sent.reply_to?.email).toBe(address);

    // Written from another address than the one on file: the Reply-To names the person.
    const words = 'O meu cartão está em risco? Obrigada.';
    await email(
      {
        from: 'Inês <ines.other@example.net>',
        to: `Acme <${address}>`,
        envelope: JSON.stringify({ to: [address], from: 'ines.other@example.net' }),
        subject: 'Re: Aviso',
        text: words,
        attachments: '2',
        headers: `Message-ID: <${crypto.randomUUID()}@example.net>`,
      },
      { attachments: 2 },
    ).expect(200);
    await email({
      from: 'otto.sender@example.de',
      to: 'support@acme.example',
      subject: 'Frage',
      html: '<p>Muss ich <b>etwas</b> tun?</p>',
    }).expect(200);

    const [viaReplyTo] = await supportRows('r.person_id = $1', [byReplyTo!.id]);
    expect(viaReplyTo).toMatchObject({
      kind: 'email_reply',
      locale: 'pt',
      attachments_dropped: 2,
      incident_id: incident.id,
    });
    expect(viaReplyTo!.dump).not.toContain('cartão');
    expect(viaReplyTo!.dump).not.toContain('ines.other');
    expect(viaReplyTo!.dump).not.toContain('Aviso');
    const [viaSender] = await supportRows('r.person_id = $1', [bySender!.id]);
    expect(viaSender).toMatchObject({ kind: 'email_reply', locale: 'de' });
    expect(viaSender!.dump).not.toContain('etwas');

    const agent = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'agent'));
    const page = await agent.get(`/console/support/${viaSender!.id}`).expect(200);
    expect(page.text).toContain('Muss ich etwas tun?');
    expect(page.text).toContain('otto.sender@example.de');
  });

  it('refuses an oversize email with 413, and a wrong secret or password, filing nothing', async () => {
    const before = (await supportRows('true', [])).length;
    const big = await email({ from: 'big@example.com', text: 'x'.repeat(MAX_BYTES * 2) });
    expect(big.status).toBe(413);
    expect((await email({ from: 'a@example.com', text: 'hi' }, { secret: `${SECRET}x` })).status).toBe(404);
    expect(
      (await email({ from: 'a@example.com', text: 'hi' }, { auth: [USER, 'wrong-password-0000'] })).status,
    ).toBe(401);
    const anonymous = await email({ from: 'a@example.com', text: 'hi' }, { auth: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
    const notMultipart = await request(ctx.server)
      .post(`/webhooks/inbound-email/${SECRET}`)
      .auth(USER, PASSWORD)
      .send({ from: 'a@example.com' });
    expect(notMultipart.status).toBe(400);
    const truncated = await request(ctx.server)
      .post(`/webhooks/inbound-email/${SECRET}`)
      .auth(USER, PASSWORD)
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="from"\r\n\r\na\u0000b@example.com');
    expect(truncated.status).toBe(400);
    expect((await supportRows('true', [])).length).toBe(before);
  });

  it('sends a staff answer once, over the channel the person wrote on, in their language', async () => {
    const incident = await newIncident();
    const number = newNumber();
    await makePeople(ctx.deps, incident.id, [makePerson({ phone: number, locale: 'es' })]);
    await text(number, '¿Qué datos míos tienen?').expect(200);
    const [filed] = await supportRows(`r.kind = 'sms_reply' AND r.incident_id = $1`, [incident.id]);
    const agent = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'agent'));
    const page = `/console/support/${filed!.id}`;

    const empty = await postForm(agent, page, `${page}/answer`, { template: '', text: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('id="text-error"');

    const sent = await postForm(agent, page, `${page}/answer`, { template: 'helpline', text: '' });
    expect(sent.status).toBe(303);
    const reply = await eventually('the answer to be sent', async () => {
      const { rows } = await ctx.deps.db.query<{ status: string; provider_message_id: string | null }>(
        'SELECT status, provider_message_id FROM support_replies WHERE support_request_id = $1',
        [filed!.id],
      );
      return rows[0]?.status === 'sent' ? rows[0] : undefined;
    });
    const texts = fake.requests.filter(
      (r) => r.kind === 'twilio-sms' && (r.body as Record<string, string>).To === number,
    );
    expect(texts).toHaveLength(1);
    expect(texts[0]!.providerMessageId).toBe(reply.provider_message_id);
    const body = (texts[0]!.body as Record<string, string>).Body;
    expect(body).toContain(HELPLINES.es);
    expect(body).toContain('Puede hablar con alguien');

    const shown = await agent.get(page).expect(200);
    expect(shown.text).toContain('Puede hablar con alguien');
    const actions = await eventually('the answer to be audited', async () => {
      const { rows } = await ctx.deps.db.query<{ action: string }>(
        `SELECT action FROM audit_log WHERE action = 'support.answer' AND outcome = 'ok'`,
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(actions.length).toBeGreaterThan(0);

    // Once the number texts STOP, no answer can go by text.
    await text(number, 'STOP').expect(200);
    const refused = await postForm(agent, page, `${page}/answer`, { template: 'received', text: '' });
    expect(refused.status).toBe(409);
  });

  it('purges replies and answers with their incident, and unmatched ones once the retention period is over', async () => {
    const incident = await newIncident();
    const number = newNumber();
    const [person] = await makePeople(ctx.deps, incident.id, [makePerson({ phone: number })]);
    await text(number, 'Is my account safe?').expect(200);
    const [filed] = await supportRows('r.person_id = $1', [person!.id]);
    await ctx.deps.db.query(
      `INSERT INTO support_replies (support_request_id, channel, locale, body_enc, status, created_at)
       VALUES ($1, 'sms', 'en', $2, 'sent', now())`,
      [filed!.id, ctx.deps.vault.seal('Yes, it is.')],
    );
    await ctx.deps.db.query(`UPDATE incidents SET state = 'resolved', resolved_at = now() WHERE id = $1`, [
      incident.id,
    ]);
    const later = new Date(Date.now() + 3 * 86_400_000);
    await purgeDue({
      db: ctx.deps.db,
      logger: ctx.deps.logger,
      clock: { now: () => later },
      config: { retentionDays: 1 },
    });

    expect(await supportRows('r.incident_id = $1', [incident.id])).toEqual([]);
    expect(await supportRows('r.incident_id IS NULL', [])).toEqual([]);
    const { rows } = await ctx.deps.db.query('SELECT 1 FROM support_replies WHERE support_request_id = $1', [
      filed!.id,
    ]);
    expect(rows).toEqual([]);
  });
});
