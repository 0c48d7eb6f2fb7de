import { describe, expect, it } from 'vitest';
import { normalizeAccessCode, parseContact, referenceForm } from '../../src/lookup/validation.js';
import { parseForm } from '../../src/web/forms.js';
import { buildAtomFeed } from '../../src/status-page/feed.js';
import { portalMessageId } from '../../src/portal-messages/queue.js';

describe('lookup input', () => {
  it('reads an email in any case and a phone written with its country code, with 00 for +', () => {
    expect(parseContact(' Alex@Example.COM ')).toEqual({ channel: 'email', value: 'alex@example.com' });
    expect(parseContact('+44 7911 123456')).toEqual({ channel: 'sms', value: '+447911123456' });
    expect(parseContact('0044 7911 123456')).toEqual({ channel: 'sms', value: '+447911123456' });
    expect(parseContact('07911 123456')).toBeNull();
    expect(parseContact('not an email@')).toBeNull();
  });

  it('accepts a one-time code with spaces or dashes, and only six digits', () => {
    expect(normalizeAccessCode('123 456')).toBe('123456');
    expect(normalizeAccessCode('123-456')).toBe('123456');
    expect(normalizeAccessCode('12345')).toBeNull();
    expect(normalizeAccessCode('12345a')).toBeNull();
  });

  it('accepts a reference code typed in lower case with spaces, and names the field when it is wrong', () => {
    const ok = parseForm(referenceForm, { reference: '7kq2 m9xd 4phr 3twa', verifier: 'SW1A 1AA' });
    expect(ok).toEqual({ ok: true, data: { reference: '7KQ2M9XD4PHR3TWA', verifier: 'SW1A 1AA' } });
    const bad = parseForm(referenceForm, { reference: '7KQ2', verifier: '' });
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.errors).toEqual([
        { field: 'reference', messageKey: 'lookup:errors.referenceInvalid' },
        { field: 'verifier', messageKey: 'lookup:errors.verifierMissing' },
      ]);
  });
});

describe('portal messages', () => {
  it('carry ids that can never match a campaign message, and never each other', () => {
    const ids = [1, 2, 3].flatMap((id) => [
      portalMessageId.accessCode(id),
      portalMessageId.subscriptionConfirmation(id),
      portalMessageId.supportReply(id),
    ]);
    expect(ids.every((id) => id < 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the Atom feed', () => {
  it('escapes what staff wrote and dates every entry', () => {
    const xml = buildAtomFeed({
      selfUrl: 'https://status.example/incidents/x/feed.atom',
      pageUrl: 'https://status.example/incidents/x',
      id: 'tag:status.example,2026-11-20:incident-x',
      title: 'Fish & <chips>',
      organisation: 'Acme "Bikes"',
      locale: 'en',
      updated: new Date('2026-11-21T09:00:00Z'),
      entries: [
        {
          id: 'tag:status.example,2026-11-20:incident-x-update-1',
          title: 'Backup removed',
          body: '<script>alert(1)</script>',
          published: new Date('2026-11-20T10:00:00Z'),
          url: 'https://status.example/incidents/x#update-1',
        },
      ],
    });
    expect(xml).toContain('<title>Fish &amp; &lt;chips&gt;</title>');
    expect(xml).toContain('<name>Acme &quot;Bikes&quot;</name>');
    expect(xml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(xml).toContain('<published>2026-11-20T10:00:00.000Z</published>');
    expect(xml).toContain('<updated>2026-11-21T09:00:00.000Z</updated>');
  });
});

describe('choosing the page language from the browser', () => {
  it('takes the first supported language in the browser’s order of preference', async () => {
    const { fromAcceptLanguage } = await import('../../src/web/locale.js');
    expect(fromAcceptLanguage('fr-CA,fr;q=0.9,en;q=0.8')).toBe('fr');
    expect(fromAcceptLanguage('ja;q=0.9,ar-EG;q=0.8')).toBe('ar');
    expect(fromAcceptLanguage('en;q=0.5,zh-CN')).toBe('zh-Hans');
    expect(fromAcceptLanguage('pt-BR')).toBe('pt');
    expect(fromAcceptLanguage('ja, ko')).toBeNull();
    expect(fromAcceptLanguage(undefined)).toBeNull();
  });
});
