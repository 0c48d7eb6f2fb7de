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
});
