import { beforeAll, describe, expect, it } from 'vitest';
import { createI18n, type I18n } from '../../src/platform/i18n.js';
import { renderNotice, spokenReferenceCode } from '../../src/notices/render.js';

const facts = {
  organisation: 'Acme Bikes',
  name: 'Léa Dubois',
  referenceCode: 'AB12-CD34-EF56-GH78',
  lookupUrl: 'https://notice.acme.example/incidents/x',
  dataTypes: ['email_addresses', 'payment_cards'],
  helpline: '+33 800 000 000',
};

describe('rendering a notice', () => {
  let i18n: I18n;
  beforeAll(async () => {
    i18n = await createI18n();
  });

  it('writes the email in the person’s language with their data types, link and reference code', () => {
    const notice = renderNotice(i18n.t, 'fr', 'initial_notice', 'email', facts);
    expect(notice.subject).toContain('Acme Bikes');
    expect(notice.text).toContain('Bonjour Léa Dubois');
    expect(notice.text).toContain('adresses e-mail, données de carte bancaire');
    expect(notice.text).toContain(facts.lookupUrl);
    expect(notice.text).toContain(facts.referenceCode);
  });

  it('greets a person without a name on file without a blank', () => {
    const notice = renderNotice(i18n.t, 'en', 'initial_notice', 'letter', { ...facts, name: null });
    expect(notice.paragraphs[0]).toBe('Hello,');
  });

  it('writes the SMS as one plain text with the link and the code', () => {
    const notice = renderNotice(i18n.t, 'en', 'initial_notice', 'sms', facts);
    expect(notice.subject).toBeNull();
    expect(notice.text).toContain(facts.lookupUrl);
    expect(notice.text).toContain(facts.referenceCode);
  });

  it('spells the reference code out for a voice call', () => {
    expect(spokenReferenceCode('AB12-CD34')).toBe('A B 1 2, C D 3 4');
    const notice = renderNotice(i18n.t, 'en', 'initial_notice', 'voice', facts);
    expect(notice.speech).toContain('A B 1 2, C D 3 4');
  });

  it('renders an update with its title and body', () => {
    const notice = renderNotice(i18n.t, 'en', 'update', 'email', {
      ...facts,
      updateTitle: 'Access closed',
      updateBody: 'All safe now.',
    });
    expect(notice.subject).toContain('Access closed');
    expect(notice.text).toContain('All safe now.');
  });

  describe('code offers and code reminders', () => {
    const linkOffer = {
      service: '24 months of credit monitoring',
      goodwill: false,
      vendor: 'Watchful Credit',
      instructions: 'Saisissez le code sur la première page.',
      deadline: '31 mars 2027',
      code: null,
    };
    const codeOffer = { ...linkOffer, code: 'WC-7K2Q-9XD4' };

    it('tells how to reveal the code, and by when, when the pool keeps codes behind the lookup', () => {
      const notice = renderNotice(i18n.t, 'fr', 'code_offer', 'email', { ...facts, codeOffer: linkOffer });
      expect(notice.text).toContain('Votre offre : 24 months of credit monitoring, de Watchful Credit.');
      expect(notice.text).toContain(`entrez votre code de référence ${facts.referenceCode}`);
      expect(notice.text).toContain('Saisissez le code sur la première page.');
      expect(notice.text).toContain('Pensez à le demander avant le 31 mars 2027.');
      expect(notice.text).not.toContain('Votre code personnel :');
    });

    it('carries the code itself, on every channel, when the pool puts it in the message', () => {
      const email = renderNotice(i18n.t, 'en', 'code_offer', 'email', { ...facts, codeOffer });
      expect(email.text).toContain('Your personal code: WC-7K2Q-9XD4');
      expect(email.text).toContain('Please use it before 31 mars 2027.');
      expect(email.text).not.toContain('To get your personal code');
      const sms = renderNotice(i18n.t, 'en', 'code_offer', 'sms', { ...facts, codeOffer });
      expect(sms.text).toContain('code is WC-7K2Q-9XD4');
      expect(sms.text).toContain('Please use it before 31 mars 2027.');
      const call = renderNotice(i18n.t, 'en', 'code_offer', 'voice', { ...facts, codeOffer });
      expect(call.speech).toContain('Your personal code is W C, 7 K 2 Q, 9 X D 4.');
      expect(call.speech).not.toContain('on our website');
    });

    it('offers a discount or gift as amends, never as protection, on every channel', () => {
      const gift = { ...codeOffer, service: '20% off your next order', goodwill: true };
      const email = renderNotice(i18n.t, 'en', 'code_offer', 'email', { ...facts, codeOffer: gift });
      expect(email.subject).toBe('Acme Bikes: a gift for you, with our apologies');
      expect(email.text).toContain('To make up for it, we would like to offer you something free.');
      expect(email.text).not.toMatch(/protect/i);
      const sms = renderNotice(i18n.t, 'en', 'code_offer', 'sms', {
        ...facts,
        codeOffer: { ...gift, code: null },
      });
      expect(sms.text).toContain('with our apologies, a free offer for you');
      const call = renderNotice(i18n.t, 'fr', 'code_offer', 'voice', { ...facts, codeOffer: gift });
      expect(call.speech).toContain('Pour nous faire pardonner');
      expect(call.speech).not.toMatch(/protég|protection/i);
      const protection = renderNotice(i18n.t, 'en', 'code_offer', 'email', { ...facts, codeOffer });
      expect(protection.subject).toBe('Acme Bikes: a free protection service for you');
    });

    it('leaves out the deadline line for codes that do not expire', () => {
      const notice = renderNotice(i18n.t, 'en', 'code_offer', 'letter', {
        ...facts,
        codeOffer: { ...codeOffer, deadline: null },
      });
      expect(notice.text).not.toContain('before');
    });

    it('writes a code reminder about the unused offer, apart from the general reminder', () => {
      const email = renderNotice(i18n.t, 'en', 'code_reminder', 'email', { ...facts, codeOffer: linkOffer });
      expect(email.subject).toBe('Reminder from Acme Bikes: your free offer is waiting');
      expect(email.text).toContain('You have not used it yet.');
      expect(email.text).toContain('Please claim it before 31 mars 2027.');
      const sms = renderNotice(i18n.t, 'de', 'code_reminder', 'sms', { ...facts, codeOffer });
      expect(sms.text).toContain('Erinnerung von Acme Bikes');
      expect(sms.text).toContain('WC-7K2Q-9XD4');
      const call = renderNotice(i18n.t, 'en', 'code_reminder', 'voice', { ...facts, codeOffer: linkOffer });
      expect(call.speech).toContain('This is a reminder from Acme Bikes.');
      expect(call.speech).toContain('You can get your personal code on our website');
      const general = renderNotice(i18n.t, 'en', 'reminder', 'email', { ...facts, codeOffer });
      expect(general.subject).toBe('Reminder: please act on the data security incident at Acme Bikes');
      expect(general.text).not.toContain('WC-7K2Q-9XD4');
    });
  });
});
