import { describe, expect, it } from 'vitest';
import { parseDay, parseDeliveryFilter, filterQuery } from '../../src/deliveries/filter.js';
import { missingTranslations } from '../../src/campaigns/plan.js';
import { copyUpdateText, missingLanguagesByField } from '../../src/console/incidents/texts.js';

describe('delivery filters', () => {
  it('reads every filter, and treats empty values as "any"', () => {
    const parsed = parseDeliveryFilter({
      incident: '3',
      campaign: ' 12 ',
      status: 'bounced',
      channel: 'none',
      language: 'zh-Hans',
      from: '2026-03-01',
      to: '2026-03-01',
      before: '900',
      limit: '',
    });
    expect(parsed).toEqual({
      ok: true,
      filter: {
        incidentId: 3,
        campaignId: 12,
        status: 'bounced',
        channel: 'none',
        locale: 'zh-Hans',
        from: '2026-03-01',
        to: '2026-03-01',
      },
      before: 900,
      limit: 50,
    });
  });

  it('refuses every bad value at once, naming each field', () => {
    const parsed = parseDeliveryFilter({
      campaign: '1.5',
      status: 'lost',
      channel: ['email', 'sms'],
      language: 'it',
      from: '2026-04-31',
      limit: '501',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.map((error) => error.field)).toEqual([
      'campaign',
      'status',
      'channel',
      'language',
      'from',
      'limit',
    ]);
  });

  it('refuses a range that ends before it starts', () => {
    const parsed = parseDeliveryFilter({ from: '2026-03-02', to: '2026-03-01' });
    expect(parsed).toMatchObject({ ok: false, errors: [{ field: 'to' }] });
  });

  it('accepts only real calendar days', () => {
    expect(parseDay('2028-02-29')).toBe('2028-02-29');
    expect(parseDay('2026-02-29')).toBeNull();
    expect(parseDay('2026-3-1')).toBeNull();
    expect(parseDay('2026-03-01T00:00')).toBeNull();
  });

  it('writes a filter back as the query string that reads the same', () => {
    const parsed = parseDeliveryFilter({ status: 'sent', language: 'fr', to: '2026-03-09' });
    if (!parsed.ok) throw new Error('refused');
    const query = filterQuery(parsed.filter, { before: 7 });
    expect(query).toBe('status=sent&language=fr&to=2026-03-09&before=7');
    expect(parseDeliveryFilter(Object.fromEntries(new URLSearchParams(query)))).toEqual({
      ...parsed,
      before: 7,
    });
  });
});

describe('missing translations in a plan', () => {
  it('counts, per language actually used, the people whose language the incident text lacks', () => {
    expect(
      missingTranslations({
        localeCounts: [
          { locale: 'de', people: 2 },
          { locale: 'de-AT', people: 1 },
          { locale: 'en', people: 5 },
          { locale: 'it', people: 4 },
          { locale: 'pt-BR', people: 1 },
        ],
        kind: 'initial_notice',
        incidentTexts: { en: {}, fr: {} },
        updateTexts: null,
        defaultLocale: 'en',
      }),
    ).toEqual([
      { locale: 'de', people: 3, text: 'incident', fallbackLocale: null },
      { locale: 'pt', people: 1, text: 'incident', fallbackLocale: null },
    ]);
  });

  it("judges an update by the update's own languages, falling back to the default one", () => {
    expect(
      missingTranslations({
        localeCounts: [
          { locale: 'fr', people: 2 },
          { locale: 'es', people: 1 },
        ],
        kind: 'update',
        incidentTexts: { en: {}, fr: {}, es: {} },
        updateTexts: { en: {}, es: {} },
        defaultLocale: 'en',
      }),
    ).toEqual([{ locale: 'fr', people: 2, text: 'update', fallbackLocale: 'en' }]);
  });
});

describe('the update form and the editor', () => {
  it('copies the source text only into empty boxes', () => {
    expect(
      copyUpdateText({ 'title.en': 'Title', 'body.en': 'Body', 'title.fr': 'Titre' }, 'en', 'fr'),
    ).toEqual({ 'title.en': 'Title', 'body.en': 'Body', 'title.fr': 'Titre', 'body.fr': 'Body' });
  });

  it('lists, per text, the languages it is missing in', () => {
    const missing = missingLanguagesByField(
      {
        en: {
          title: 'T',
          whatHappened: 'W',
          whatData: 'D',
          whatWeDid: 'X',
          whatYouShouldDo: 'Y',
          howToGetHelp: 'H',
        },
        fr: { title: 'T', whatHappened: '  ' },
      },
      ['en', 'fr', 'de'],
    );
    expect(missing[0]).toEqual({ field: 'title', locales: ['de'] });
    expect(missing[1]).toEqual({ field: 'whatHappened', locales: ['fr', 'de'] });
    expect(missing).toHaveLength(6);
  });
});
