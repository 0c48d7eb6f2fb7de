import type { Express, Response } from 'express';
import type { Deps } from '../deps.js';
import type { Incident } from '../incidents/store.js';
import { ACCESSIBILITY_NEEDS } from '../campaigns/channel-policy.js';
import { selectGuidance } from '../guidance/select.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { formValues, parseForm, type FieldError } from '../web/forms.js';
import { formProtection } from '../web/session.js';
import { portalContext, signOutPerson } from '../web/portal.js';
import { publishedIncidentOr404 } from '../web/published-incident.js';
import { availableChannels, preferencesForm } from './preferences.js';
import { listPersonalOffers } from '../codes/service.js';
import { codesPath } from '../codes/paths.js';
import { formatDay } from '../codes/rules.js';
import { loadProfile, setSubscribed, updatePreferences, type Profile } from './store.js';

type PersonalPageDeps = Pick<Deps, 'db' | 'vault' | 'clock' | 'redis' | 'config' | 'i18n'>;

const NOTICES = ['preferences', 'subscribed', 'unsubscribed'] as const;

/**
 * The personal page: were you affected, what of yours was taken, what to do about it where you live,
 * and your choices (language, channel, accessibility, updates). Only for a person who proved who they are.
 */
export function registerPersonalPage(app: Express, deps: PersonalPageDeps): void {
  const forms = [...formProtection(deps), portalContext(deps)];

  /** The signed-in person's profile for this incident, or null after sending them to the lookup. */
  async function signedInProfile(res: Response, incident: Incident): Promise<Profile | null> {
    const person = res.locals.person;
    const profile =
      person && person.incidentId === incident.id ? await loadProfile(deps.db, deps.vault, person.id) : null;
    if (!profile) res.redirect(303, `/incidents/${incident.slug}/check`);
    return profile;
  }

  async function renderPage(
    res: Response,
    incident: Incident,
    profile: Profile,
    extra: { errors?: FieldError[]; values?: Record<string, string>; notice?: string | null } = {},
  ) {
    res.render('personal-page/index', {
      // The person's credit-monitoring and goodwill codes, revealed from here (src/codes).
      offers: await listPersonalOffers(deps, { personId: profile.id, locale: res.locals.lang }),
      actionBase: codesPath(incident.slug),
      formatDay: (day: string) => formatDay(res.locals.lang, day),
      slug: incident.slug,
      organisation: incident.organisationName,
      profile,
      guidance: selectGuidance({ dataTypes: profile.exposedDataTypes, country: profile.country }),
      channels: availableChannels(profile.reachable),
      needs: ACCESSIBILITY_NEEDS,
      locales: SUPPORTED_LOCALES,
      errors: [],
      values: {},
      notice: null,
      ...extra,
    });
  }

  app.get('/incidents/:slug/me', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const profile = await signedInProfile(res, incident);
    if (!profile) return;
    const notice = NOTICES.find((value) => value === req.query.done) ?? null;
    await renderPage(res, incident, profile, { notice });
  });

  app.post('/incidents/:slug/me/preferences', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const profile = await signedInProfile(res, incident);
    if (!profile) return;
    const form = parseForm(preferencesForm(profile.reachable), req.body);
    if (!form.ok) {
      res.status(400);
      await renderPage(res, incident, profile, { errors: form.errors, values: formValues(req.body) });
      return;
    }
    await updatePreferences(deps.db, profile.id, { ...form.data, at: deps.clock.now() });
    // A newly chosen language is the one they want to read now, too; saving other choices while
    // reading in another language leaves the page in that language.
    if (form.data.locale !== profile.locale) req.session.portalLang = form.data.locale;
    res.redirect(303, `/incidents/${incident.slug}/me?done=preferences#preferences`);
  });

  app.post('/incidents/:slug/me/subscription', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const profile = await signedInProfile(res, incident);
    if (!profile) return;
    const subscribe = formValues(req.body).subscribe === 'yes';
    await setSubscribed(deps.db, profile.id, subscribe, deps.clock.now());
    res.redirect(
      303,
      `/incidents/${incident.slug}/me?done=${subscribe ? 'subscribed' : 'unsubscribed'}#updates`,
    );
  });

  app.post('/incidents/:slug/sign-out', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    await signOutPerson(req);
    res.redirect(303, `/incidents/${incident.slug}`);
  });
}
