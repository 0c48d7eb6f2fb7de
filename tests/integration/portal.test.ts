import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson } from '../support/factories.js';
import { browser, codeFrom, portalOutbox } from '../support/portal.js';
import { fixedClock } from '../../src/platform/clock.js';
import type { Incident } from '../../src/incidents/store.js';
import { postIncidentUpdate } from '../../src/incidents/service.js';

const clock = fixedClock(new Date('2026-11-20T09:00:00Z'));

describe('the public portal', () => {
  let ctx: TestContext;
  let incident: Incident;
  let card: { email: string; reference: string; id: number };
  let plain: { email: string; reference: string; id: number };
  let phoneOnly: { reference: string; id: number };

  beforeAll(async () => {
    ctx = await startTestContext({ workers: true, clock });
    incident = await makeIncident(ctx.deps, { dataTypes: ['names', 'email_addresses', 'payment_cards'] });
    const people = [
      makePerson({ postalCode: 'SW1A1AA', birthYear: 1970, exposedDataTypes: ['names', 'payment_cards'] }),
      makePerson({ birthYear: 1985, affected: false, exposedDataTypes: [], country: 'US' }),
      makePerson({ email: null, phone: '+447400123456', postalCode: 'EH11YZ', locale: 'fr', country: 'FR' }),
    ];
    const created = await makePeople(ctx.deps, incident.id, people);
    card = { email: people[0]!.email!, reference: created[0]!.referenceCode!, id: created[0]!.id };
    plain = { email: people[1]!.email!, reference: created[1]!.referenceCode!, id: created[1]!.id };
    phoneOnly = { reference: created[2]!.referenceCode!, id: created[2]!.id };
  });
  afterAll(async () => ctx?.close());

  const checkPage = () => `/incidents/${incident.slug}/check`;

  describe('lookup by reference code', () => {
    it('lets a person in with their code typed loosely and their postcode, and shows their page', async () => {
      const person = browser(ctx.server);
      const loose = card.reference.toLowerCase().replace(/-/g, ' ');
      const signedIn = await person.submit(checkPage(), `${checkPage()}/reference`, {
        reference: loose,
        verifier: 'sw1a 1aa',
      });
      expect(signedIn.status).toBe(303);
      expect(signedIn.headers.location).toBe(`/incidents/${incident.slug}/me`);
      const page = await person.get(`/incidents/${incident.slug}/me`).expect(200);
      expect(page.text).toContain('Your details were affected');
      expect(page.text).toContain('payment card details');
      expect(page.text).toContain('Call your bank about your card');
      expect(page.text).toContain('This advice is for people living in the United Kingdom.');
      expect(page.text).toContain(card.reference);
    });

    it('accepts the year of birth instead of the postcode, and says so plainly when a person was not affected', async () => {
      const person = browser(ctx.server);
      await person
        .submit(checkPage(), `${checkPage()}/reference`, { reference: plain.reference, verifier: '1985' })
        .expect(303);
      const page = await person.get(`/incidents/${incident.slug}/me`).expect(200);
      expect(page.text).toContain('Your details were not affected');
      expect(page.text).not.toContain('What you should do now');
    });

    it('gives the same answer for an unknown code as for a wrong verifier', async () => {
      const wrongVerifier = await browser(ctx.server).submit(checkPage(), `${checkPage()}/reference`, {
        reference: card.reference,
        verifier: '1971',
      });
      const unknownCode = await browser(ctx.server).submit(checkPage(), `${checkPage()}/reference`, {
        reference: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ',
        verifier: '1971',
      });
      expect(wrongVerifier.status).toBe(400);
      expect(unknownCode.status).toBe(400);
      const strip = (html: string) =>
        html
          .replace(/name="_csrf" value="[^"]+"/, '')
          .replace(/value="[^"]*"/g, '')
          // The error summary's focus script carries the response's own CSP nonce.
          .replace(/nonce="[^"]+"/g, '');
      expect(strip(wrongVerifier.text)).toBe(strip(unknownCode.text));
      expect(wrongVerifier.text).toContain('We could not match that reference code');
    });

    it('re-renders a malformed form with an error summary linking to each field', async () => {
      const response = await browser(ctx.server).submit(checkPage(), `${checkPage()}/reference`, {
        reference: '12',
        verifier: '',
      });
      expect(response.status).toBe(400);
      expect(response.text).toContain('There is a problem');
      expect(response.text).toContain('<a href="#reference">');
      expect(response.text).toContain('<a href="#verifier">');
      expect(response.text).toMatch(/id="reference"[^>]*aria-describedby="reference-hint reference-error"/);
    });

    it('refuses a form posted without the token from its page', async () => {
      await request(ctx.server)
        .post(`${checkPage()}/reference`)
        .type('form')
        .send({ reference: card.reference, verifier: '1970' })
        .expect(403);
    });
  });

  describe('lookup by email or phone', () => {
    it('sends a one-time code only to the contact on file, which signs in once', async () => {
      const person = browser(ctx.server);
      const sent = await person.submit(checkPage(), `${checkPage()}/contact`, {
        contact: card.email.toUpperCase(),
      });
      expect(sent.status).toBe(200);
      expect(sent.text).toContain('If that email address is in our records');
      const message = await eventually('the code to be sent', async () =>
        (await portalOutbox(ctx.deps)).find((entry) => entry.to.email === card.email),
      );
      expect(message.channel).toBe('email');
      const code = codeFrom(message.content.text);
      expect(message.content.text).toContain(`/incidents/${incident.slug}/check/code?request=`);

      const wrong = await person.submit(`${checkPage()}/code`, `${checkPage()}/code`, {
        code: code === '000000' ? '111111' : '000000',
      });
      expect(wrong.status).toBe(400);
      expect(wrong.text).toContain('That code is not right, or it has expired');

      const spaced = `${code.slice(0, 3)} ${code.slice(3)}`;
      const signedIn = await person.submit(`${checkPage()}/code`, `${checkPage()}/code`, { code: spaced });
      expect(signedIn.status).toBe(303);
      expect((await person.get(`/incidents/${incident.slug}/me`)).text).toContain(
        'Your details were affected',
      );

      const link = /(\/incidents\/\S+\/check\/code\?\S+)/.exec(message.content.text)![1]!;
      const again = browser(ctx.server);
      const linkPage = await again.get(link).expect(200);
      expect(linkPage.text).toContain(`value="${code}"`);
      const reused = await again.submit(link, `${checkPage()}/code`, {
        code,
        request: new URL(link, 'http://x').searchParams.get('request')!,
      });
      expect(reused.status).toBe(400);
    });

    it('sends a text message to a phone on file, and nothing at all for a contact not on file', async () => {
      const before = (await portalOutbox(ctx.deps)).length;
      await browser(ctx.server)
        .submit(checkPage(), `${checkPage()}/contact`, { contact: '+44 7400 123456' })
        .expect(200);
      await browser(ctx.server)
        .submit(checkPage(), `${checkPage()}/contact`, { contact: 'nobody-here@example.com' })
        .expect(200);
      const sms = await eventually('the text message', async () =>
        (await portalOutbox(ctx.deps)).find((entry) => entry.to.phone === '+447400123456'),
      );
      expect(sms.channel).toBe('sms');
      expect(sms.content.locale).toBe('en');
      await eventually('both requests to be decided', async () => {
        const { rows } = await ctx.deps.db.query<{ status: string }>(
          `SELECT status FROM access_requests WHERE status IN ('pending', 'matched')`,
        );
        return rows.length === 0;
      });
      expect((await portalOutbox(ctx.deps)).length).toBe(before + 1);
    });

    it('lets a code expire after ten minutes', async () => {
      const person = browser(ctx.server);
      await person.submit(checkPage(), `${checkPage()}/contact`, { contact: plain.email }).expect(200);
      const message = await eventually('the code to be sent', async () =>
        (await portalOutbox(ctx.deps)).find((entry) => entry.to.email === plain.email),
      );
      const start = clock.now();
      clock.set(new Date(start.getTime() + 10 * 60_000 + 1_000));
      try {
        const late = await person.submit(`${checkPage()}/code`, `${checkPage()}/code`, {
          code: codeFrom(message.content.text),
        });
        expect(late.status).toBe(400);
      } finally {
        clock.set(start);
      }
    });

    it('keeps the contact itself out of the database and the job', async () => {
      const { rows } = await ctx.deps.db.query<{ row: string }>(
        'SELECT row_to_json(a)::text AS row FROM access_requests a',
      );
      for (const { row } of rows) {
        expect(row).not.toContain(card.email);
        expect(row).not.toContain('447400123456');
      }
    });
  });

  describe('the personal page', () => {
    it('sends anyone not signed in to the lookup', async () => {
      const response = await request(ctx.server).get(`/incidents/${incident.slug}/me`).expect(303);
      expect(response.headers.location).toBe(checkPage());
    });

    it('speaks the person’s own language, and saves their language, channel and needs', async () => {
      const person = browser(ctx.server);
      await person
        .submit(checkPage(), `${checkPage()}/reference`, {
          reference: phoneOnly.reference,
          verifier: 'EH1 1YZ',
        })
        .expect(303);
      const page = await person.get(`/incidents/${incident.slug}/me`).expect(200);
      expect(page.text).toContain('<html lang="fr" dir="ltr">');
      expect(page.text).toContain(
        'Ces conseils s&#39;adressent aux personnes qui vivent dans l&#39;Union européenne.',
      );
      expect(page.text).toContain('value="sms"');
      expect(page.text).not.toContain('value="email"');

      const refused = await person.submit(
        `/incidents/${incident.slug}/me`,
        `/incidents/${incident.slug}/me/preferences`,
        {
          locale: 'ar',
          channel: 'email',
        },
      );
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('href="#channel"');

      const saved = await person.submit(
        `/incidents/${incident.slug}/me`,
        `/incidents/${incident.slug}/me/preferences`,
        {
          locale: 'ar',
          channel: 'voice',
          need_visually_impaired: 'on',
        },
      );
      expect(saved.status).toBe(303);
      const { rows } = await ctx.deps.db.query(
        'SELECT locale, preferred_channel, accessibility_needs FROM people WHERE id = $1',
        [phoneOnly.id],
      );
      expect(rows[0]).toEqual({
        locale: 'ar',
        preferred_channel: 'voice',
        accessibility_needs: ['visually_impaired'],
      });
      const after = await person.get(`/incidents/${incident.slug}/me?done=preferences`).expect(200);
      expect(after.text).toContain('<html lang="ar" dir="rtl">');
    });

    it('subscribes a signed-in person to updates without a confirmation email, and back', async () => {
      const person = browser(ctx.server);
      await person
        .submit(checkPage(), `${checkPage()}/reference`, { reference: card.reference, verifier: '1970' })
        .expect(303);
      const me = `/incidents/${incident.slug}/me`;
      await person.submit(me, `${me}/subscription`, { subscribe: 'yes' }).expect(303);
      const subscribed = await ctx.deps.db.query<{ subscribed_at: Date | null }>(
        'SELECT subscribed_at FROM people WHERE id = $1',
        [card.id],
      );
      expect(subscribed.rows[0]!.subscribed_at).not.toBeNull();
      await person.submit(me, `${me}/subscription`, { subscribe: 'no' }).expect(303);
      const unsubscribed = await ctx.deps.db.query<{ subscribed_at: Date | null }>(
        'SELECT subscribed_at FROM people WHERE id = $1',
        [card.id],
      );
      expect(unsubscribed.rows[0]!.subscribed_at).toBeNull();
    });

    it('signs out, after which the page is closed', async () => {
      const person = browser(ctx.server);
      await person
        .submit(checkPage(), `${checkPage()}/reference`, { reference: card.reference, verifier: '1970' })
        .expect(303);
      await person
        .submit(`/incidents/${incident.slug}/me`, `/incidents/${incident.slug}/sign-out`, {})
        .expect(303);
      await person.get(`/incidents/${incident.slug}/me`).expect(303);
    });
  });

  describe('support requests', () => {
    const support = () => `/incidents/${incident.slug}/support`;

    it('files a signed-in person’s callback request in the staff queue, with the number sealed', async () => {
      const person = browser(ctx.server);
      await person
        .submit(checkPage(), `${checkPage()}/reference`, { reference: card.reference, verifier: '1970' })
        .expect(303);
      const response = await person.submit(support(), `${support()}/callback`, {
        phone: '07400 654321',
        preferredTime: 'evening',
        locale: 'hi',
      });
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe(`${support()}/sent?kind=callback`);
      const { rows } = await ctx.deps.db.query<{
        person_id: number;
        kind: string;
        phone_enc: string;
        preferred_time: string;
        locale: string;
        status: string;
      }>(
        `SELECT person_id, kind, phone_enc, preferred_time, locale, status FROM support_requests WHERE kind = 'callback'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        person_id: card.id,
        preferred_time: 'evening',
        locale: 'hi',
        status: 'open',
      });
      expect(rows[0]!.phone_enc).not.toContain('654321');
      expect(ctx.deps.vault.open(rows[0]!.phone_enc)).toBe('+447400654321');
    });

    it('asks anyone not signed in for a reply address, then files their message', async () => {
      const visitor = browser(ctx.server);
      const missing = await visitor.submit(support(), `${support()}/message`, {
        message: 'When will I know more?',
      });
      expect(missing.status).toBe(400);
      expect(missing.text).toContain('href="#replyEmail"');
      expect(missing.text).toContain('When will I know more?');
      await visitor
        .submit(support(), `${support()}/message`, {
          message: 'When will I know more?',
          replyEmail: 'sam@example.org',
        })
        .expect(303);
      const { rows } = await ctx.deps.db.query<{
        person_id: number | null;
        message_enc: string;
        reply_email_enc: string;
      }>(`SELECT person_id, message_enc, reply_email_enc FROM support_requests WHERE kind = 'message'`);
      expect(rows[0]!.person_id).toBeNull();
      expect(ctx.deps.vault.open(rows[0]!.message_enc)).toBe('When will I know more?');
      expect(ctx.deps.vault.open(rows[0]!.reply_email_enc)).toBe('sam@example.org');
    });
  });

  describe('updates by email, with double opt-in', () => {
    const subscribe = () => `/incidents/${incident.slug}/subscribe`;

    it('subscribes a new address only once its owner follows the link, and the link works once', async () => {
      const address = 'new-reader@example.net';
      const visitor = browser(ctx.server);
      const asked = await visitor.submit(subscribe(), subscribe(), { email: address });
      expect(asked.status).toBe(200);
      expect(asked.text).toContain('Check your email');
      const { rows: none } = await ctx.deps.db.query('SELECT id FROM people WHERE email_hash = $1', [
        ctx.deps.vault.hash('email', address),
      ]);
      expect(none).toHaveLength(0);

      const message = await eventually('the confirmation email', async () =>
        (await portalOutbox(ctx.deps)).find((entry) => entry.to.email === address),
      );
      const link = /(\/incidents\/\S+\/subscribe\/confirm\?\S+)/.exec(message.content.text)![1]!;
      const token = new URL(link, 'http://x').searchParams.get('token')!;
      const owner = browser(ctx.server);
      await owner.submit(link, `${subscribe()}/confirm`, { token }).expect(200);
      const { rows } = await ctx.deps.db.query<{ affected: boolean; subscribed_at: Date | null }>(
        'SELECT affected, subscribed_at FROM people WHERE incident_id = $1 AND email_hash = $2',
        [incident.id, ctx.deps.vault.hash('email', address)],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.affected).toBe(false);
      expect(rows[0]!.subscribed_at).not.toBeNull();

      await owner.submit(link, `${subscribe()}/confirm`, { token }).expect(400);
    });

    it('marks a person already on file as subscribed, changing nothing else about them', async () => {
      await browser(ctx.server).submit(subscribe(), subscribe(), { email: plain.email }).expect(200);
      const message = await eventually('the confirmation email', async () =>
        (await portalOutbox(ctx.deps)).find(
          (entry) => entry.to.email === plain.email && entry.content.subject?.startsWith('Confirm'),
        ),
      );
      const link = /(\/incidents\/\S+\/subscribe\/confirm\?\S+)/.exec(message.content.text)![1]!;
      await browser(ctx.server)
        .submit(link, `${subscribe()}/confirm`, {
          token: new URL(link, 'http://x').searchParams.get('token')!,
        })
        .expect(200);
      const { rows } = await ctx.deps.db.query<{
        subscribed_at: Date | null;
        name_enc: string | null;
        birth_year_hash: Buffer | null;
      }>('SELECT subscribed_at, name_enc, birth_year_hash FROM people WHERE id = $1', [plain.id]);
      expect(rows[0]!.subscribed_at).not.toBeNull();
      expect(rows[0]!.name_enc).not.toBeNull();
      expect(rows[0]!.birth_year_hash).not.toBeNull();
    });
  });

  describe('the status page', () => {
    it('shows how to tell it is really us, the lookup, the feed and the helplines', async () => {
      const page = await request(ctx.server).get(`/incidents/${incident.slug}`).expect(200);
      expect(page.text).toContain('How to tell it is really us');
      expect(page.text).toContain(`Our messages only ever send you to ${new URL(ctx.baseUrl).host}`);
      expect(page.text).toContain(`href="/incidents/${incident.slug}/check"`);
      expect(page.text).toContain(`type="application/atom+xml" href="/incidents/${incident.slug}/feed.atom"`);
      expect(page.headers['set-cookie']).toBeUndefined();
    });

    it('is served from memory, and shows a published update at once', async () => {
      const path = `/incidents/${incident.slug}?lang=de`;
      await request(ctx.server).get(path).expect(200);
      const cached = await request(ctx.server).get(path).expect(200);
      expect(cached.headers['x-candor-cache']).toBe('memory');
      expect(cached.text).toContain('<html lang="de" dir="ltr">');
      await postIncidentUpdate(ctx.deps, {
        incidentId: incident.id,
        publishedAt: new Date('2026-11-21T12:00:00Z'),
        texts: { en: { title: 'Cards reissued', body: 'Every affected card has been replaced.' } },
      });
      const fresh = await request(ctx.server).get(path).expect(200);
      expect(fresh.text).toContain('Cards reissued');

      const feed = await request(ctx.server).get(`/incidents/${incident.slug}/feed.atom`).expect(200);
      expect(feed.headers['content-type']).toMatch(/^application\/atom\+xml/);
      expect(feed.text).toContain('<title>Cards reissued</title>');
      expect(feed.text).toContain('<published>2026-11-21T12:00:00.000Z</published>');
    });

    it('answers a surge from memory with the same security headers, and a 304 to a browser that has it', async () => {
      const path = `/incidents/${incident.slug}`;
      const first = await request(ctx.server).get(path).set('Accept-Language', 'ar').expect(200);
      const second = await request(ctx.server).get(path).set('Accept-Language', 'ar').expect(200);
      expect(second.text).toBe(first.text);
      expect(second.text).toContain('<html lang="ar" dir="rtl">');
      expect(second.headers['x-candor-cache']).toBe('memory');
      expect(second.headers['content-security-policy']).toContain("script-src 'self'");
      expect(second.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(second.headers['x-content-type-options']).toBe('nosniff');
      expect(second.headers.vary).toBe('Accept-Encoding, Accept-Language, Cookie');
      await request(ctx.server)
        .get(path)
        .set('Accept-Language', 'ar')
        .set('If-None-Match', second.headers.etag!)
        .expect(304);
    });

    it('says nothing exists for an unpublished or unknown incident', async () => {
      await request(ctx.server).get('/incidents/no-such-incident').expect(404);
      await request(ctx.server).get('/incidents/no-such-incident/check').expect(404);
      await request(ctx.server).get('/incidents/no-such-incident/feed.atom').expect(404);
    });
  });
});
