import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { csrfFrom, makeStaffAccount, postForm, signedInAgent } from '../support/console.js';
import { documentedApiClient, makeApiKey } from '../support/api.js';
import { makeIncident, makePeople, makePerson, makeStaff } from '../support/factories.js';
import { createCampaign, publishIncidentUpdate, submitCampaign } from '../../src/campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';
import { listIncidentUpdates } from '../../src/incidents/store.js';

/** The rows of the plan's "languages your text is missing" table: locale → people. */
function missingRows(html: string): Record<string, number> {
  const table = /data-testid="plan-missing-translations"[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
  return Object.fromEntries(
    [...table.matchAll(/<tr data-locale="([^"]+)">[\s\S]*?data-field="people">(\d+)</g)].map((match) => [
      match[1]!,
      Number(match[2]),
    ]),
  );
}

describe('missing languages, before approval', () => {
  let ctx: TestContext;
  let call: ReturnType<typeof documentedApiClient>;
  let incidentId: number;
  let approver: TestAgent;
  let editor: TestAgent;
  let personIds: number[];

  beforeAll(async () => {
    ctx = await startTestContext();
    // English and French texts only, like the demo incident.
    const incident = await makeIncident(ctx.deps);
    incidentId = incident.id;
    const people = await makePeople(ctx.deps, incident.id, [
      makePerson({ locale: 'en' }),
      makePerson({ locale: 'fr' }),
      makePerson({ locale: 'de' }),
      makePerson({ locale: 'de-AT' }),
      makePerson({ locale: 'es' }),
      makePerson({ locale: 'pt-BR' }),
      // Italian is not one of ours: the plan writes to them in English, which the incident has.
      makePerson({ locale: 'it' }),
      makePerson({ locale: 'hi', affected: false }),
    ]);
    personIds = people.map((person) => person.id);
    approver = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'approver'));
    editor = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'editor'));
    call = documentedApiClient(ctx.baseUrl, await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json());
  });
  afterAll(async () => ctx?.close());

  it('tells the approver, per language, how many people will miss the incident text, and the API says the same', async () => {
    const campaign = await createCampaign(ctx.deps, {
      incidentId,
      kind: 'initial_notice',
      audience: 'affected',
      channelPolicy: DEFAULT_CHANNEL_POLICY,
      createdBy: (await makeStaff(ctx.deps, 'editor')).id,
    });
    await submitCampaign(ctx.deps, { campaignId: campaign.id });
    const page = await approver.get(`/console/campaigns/${campaign.id}`).expect(200);
    expect(page.text).toContain('Languages your text is missing');
    expect(missingRows(page.text)).toEqual({ de: 2, es: 1, pt: 1 });
    expect(page.text).toContain('The standard notice only, without your own wording');

    const { token } = await makeApiKey(ctx.deps, 'viewer');
    const plan = await call(token, 'GET', `/api/v1/campaigns/${campaign.id}/plan`);
    expect(plan.status).toBe(200);
    expect((plan.body as { missingTranslations: unknown }).missingTranslations).toEqual([
      { locale: 'de', people: 2, text: 'incident', fallbackLocale: null },
      { locale: 'es', people: 1, text: 'incident', fallbackLocale: null },
      { locale: 'pt', people: 1, text: 'incident', fallbackLocale: null },
    ]);
  });

  it("counts an update's readers by the update's own languages, and says which language they get instead", async () => {
    // Subscribers: the French, both Germans and the Spanish reader.
    await ctx.deps.db.query('UPDATE people SET subscribed_at = now() WHERE id = ANY($1::bigint[])', [
      [personIds[1], personIds[2], personIds[3], personIds[4]],
    ]);
    const { campaign } = await publishIncidentUpdate(ctx.deps, {
      incidentId,
      texts: {
        en: { title: 'We have reset passwords', body: 'All passwords were reset.' },
        de: { title: 'Passwörter zurückgesetzt', body: 'Alle Passwörter wurden zurückgesetzt.' },
      },
      notify: 'subscribers',
      createdBy: (await makeStaff(ctx.deps, 'editor')).id,
    });
    const page = await approver.get(`/console/campaigns/${campaign!.id}`).expect(200);
    expect(missingRows(page.text)).toEqual({ es: 1, fr: 1 });
    expect(page.text).toContain('The update in English');

    const { token } = await makeApiKey(ctx.deps, 'approver');
    const plan = await call(token, 'GET', `/api/v1/campaigns/${campaign!.id}/plan`);
    expect((plan.body as { missingTranslations: unknown }).missingTranslations).toEqual([
      { locale: 'es', people: 1, text: 'update', fallbackLocale: 'en' },
      { locale: 'fr', people: 1, text: 'update', fallbackLocale: 'en' },
    ]);
  });

  it('shows in the editor which languages each text is missing', async () => {
    const page = await editor.get(`/console/incidents/${incidentId}/edit`).expect(200);
    const warning = /data-testid="editor-missing"[\s\S]*?<\/div>/.exec(page.text)?.[0] ?? '';
    expect(warning).toContain('Missing languages');
    expect(warning).toContain('Headline:');
    for (const name of ['Español', 'Deutsch', 'Português', 'العربية', 'हिन्दी', '中文（简体）'])
      expect(warning).toContain(name);
    expect(warning).not.toContain('Français');
    expect(warning).not.toContain('English');
  });

  it("copies the English update text into another language's empty boxes, without JavaScript and without overwriting", async () => {
    const path = `/console/incidents/${incidentId}/updates/new`;
    const copied = await postForm(editor, path, path, {
      'title.en': 'Card numbers were not taken',
      'body.en': 'We checked: no card numbers were in the backup.',
      'title.fr': 'Déjà traduit',
      copyFrom: 'fr',
    });
    expect(copied.status).toBe(200);
    expect(copied.text).toMatch(/id="step-fr" open/);
    expect(copied.text).toMatch(/id="title\.fr"[^>]*>Déjà traduit<\/textarea>/);
    expect(copied.text).toMatch(
      /id="body\.fr"[^>]*>We checked: no card numbers were in the backup.<\/textarea>/,
    );
    // Languages still empty stay closed and are listed as missing.
    expect(copied.text).toMatch(/id="step-es" +data-locale/);
    expect(copied.text).toContain('data-testid="update-missing"');

    const refused = await editor
      .post(path)
      .type('form')
      .send({ _csrf: csrfFrom(copied.text), 'title.en': 'x', copyFrom: 'xx' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Choose a language to copy the text into.');

    const posted = await editor
      .post(`/console/incidents/${incidentId}/updates`)
      .type('form')
      .send({
        _csrf: csrfFrom(copied.text),
        'title.en': 'Card numbers were not taken',
        'body.en': 'We checked: no card numbers were in the backup.',
        'title.fr': 'Les numéros de carte n’ont pas été pris',
        'body.fr': 'Nous avons vérifié.',
      });
    expect(posted.status).toBe(303);
    const updates = await listIncidentUpdates(ctx.deps.db, incidentId);
    expect(updates.some((update) => update.texts.fr?.body === 'Nous avons vérifié.')).toBe(true);
  });

  it('refuses an update without its text in the default language, pointing at the empty box', async () => {
    const path = `/console/incidents/${incidentId}/updates/new`;
    const page = await editor.get(path).expect(200);
    const refused = await editor
      .post(`/console/incidents/${incidentId}/updates`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), 'title.en': 'Only a title' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('href="#body.en"');
    expect(refused.text).toMatch(/id="body\.en"[^>]*aria-invalid="true"/);
  });
});
