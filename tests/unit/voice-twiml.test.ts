import { beforeAll, describe, expect, it } from 'vitest';
import { createNoticeI18n } from '../../src/notices/all-locales-i18n.js';
import { NOTICE_LOCALES } from '../../src/notices/locales.js';
import { renderNotice, type CallScript } from '../../src/notices/render.js';
import { answerTwiml, CALL_VOICES, menuTwiml } from '../../src/voice/twiml.js';
import type { I18n } from '../../src/platform/i18n.js';

const facts = {
  organisation: 'Acme Bikes',
  name: 'Vic Listener',
  referenceCode: 'AB12-CD34',
  lookupUrl: 'https://notice.acme.example/incidents/x',
  dataTypes: ['names'],
  helpline: '+44 800 111 2222',
};
const urls = { menu: 'https://candor.example/webhooks/twilio/voice/menu?message=7' };

/** Every <Say> in the document with its attributes and spoken text. */
function says(twiml: string) {
  return [
    ...twiml.matchAll(
      /<Say language="([^"]+)" voice="([^"]+)"><prosody rate="90%">([^<]*)<\/prosody><\/Say>/g,
    ),
  ].map((m) => ({ language: m[1] ?? '', voice: m[2] ?? '', text: m[3] ?? '' }));
}

describe('the TwiML a call plays', () => {
  let i18n: I18n;
  const script = (locale: string, helpline: string | null = facts.helpline): CallScript =>
    renderNotice(i18n.t, locale, 'initial_notice', 'voice', { ...facts, helpline }).call!;
  beforeAll(async () => {
    i18n = await createNoticeI18n();
  });

  it('is a well-formed TwiML document built by the SDK', () => {
    const twiml = answerTwiml(script('en'), 'en', urls, 'human');
    expect(twiml.startsWith('<?xml version="1.0" encoding="UTF-8"?><Response>')).toBe(true);
    expect(twiml.endsWith('</Response>')).toBe(true);
    expect(twiml).toContain(`<Gather numDigits="1" action="${urls.menu.replace('?', '?')}" method="POST"`);
  });

  for (const locale of NOTICE_LOCALES) {
    it(`speaks ${locale} with a voice made for ${CALL_VOICES[locale]!.language}, then offers the menu`, () => {
      const call = script(locale);
      const spoken = says(answerTwiml(call, locale, urls, 'human'));
      expect(spoken.length).toBeGreaterThanOrEqual(3);
      for (const say of spoken) {
        expect(say.language).toBe(CALL_VOICES[locale]!.language);
        expect(say.voice).toBe(CALL_VOICES[locale]!.voice);
      }
      // XML escaping aside, the notice and then the menu, in the person's language.
      expect(spoken[0]!.text.replace(/&apos;/g, "'")).toBe(call.message);
      expect(spoken[1]!.text.replace(/&apos;/g, "'")).toBe(call.menu);
    });
  }

  it('matches each language to a voice of that language', () => {
    expect(CALL_VOICES.fr).toEqual({ language: 'fr-FR', voice: 'Polly.Lea-Neural' });
    expect(CALL_VOICES['zh-Hans']!.language).toBe('cmn-CN');
    expect(CALL_VOICES.ar!.language).toBe('arb');
    expect(CALL_VOICES.hi!.language).toBe('hi-IN');
  });

  it('plays the whole notice again when the person presses 1', () => {
    const call = script('fr');
    const twiml = menuTwiml(call, 'fr', urls, '1');
    const spoken = says(twiml).map((s) => s.text.replace(/&apos;/g, "'"));
    expect(spoken[0]).toBe(call.message);
    expect(twiml).not.toContain('<Dial');
  });

  it('puts the person through to the helpline when they press 2', () => {
    const call = script('de');
    const twiml = menuTwiml(call, 'de', urls, '2');
    expect(says(twiml).map((s) => s.text)).toEqual([call.connecting]);
    expect(twiml).toContain('<Dial answerOnBridge="true">+448001112222</Dial>');
  });

  it('offers only the repeat when the incident has no helpline, and 2 does not dial', () => {
    const call = script('en', null);
    expect(call.menu).toBe('To hear this message again, press 1.');
    expect(menuTwiml(call, 'en', urls, '2')).not.toContain('<Dial');
  });

  it('leaves an answering machine a short message asking to call back, then hangs up', () => {
    const call = script('es');
    const twiml = answerTwiml(call, 'es', urls, 'machine_end_beep');
    expect(says(twiml).map((s) => s.text)).toEqual([call.machine]);
    expect(call.machine).toContain('8 0 0');
    expect(call.machine).not.toContain('AB12');
    expect(twiml).toContain('<Hangup/>');
    expect(twiml).not.toContain('<Gather');
  });
});
