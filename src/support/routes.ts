import type { Express, Request, Response } from 'express';
import type { Deps } from '../deps.js';
import type { Incident } from '../incidents/store.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { formValues, parseForm, type FieldError } from '../web/forms.js';
import { formProtection } from '../web/session.js';
import { portalContext } from '../web/portal.js';
import { consumeAll, createRateLimit } from '../platform/rate-limit.js';
import { refuseTooMany } from '../web/rate-limit.js';
import { publishedIncidentOr404 } from '../web/published-incident.js';
import { loadProfile } from '../personal-page/store.js';
import { insertSupportRequest, PREFERRED_TIMES } from './store.js';
import { CALLBACK_HOURS } from './slots.js';
import { callbackForm, messageForm } from './validation.js';

type SupportDeps = Pick<Deps, 'db' | 'vault' | 'clock' | 'redis' | 'config' | 'i18n'>;

export const SUPPORT_LIMIT = { points: 10, durationSeconds: 60 * 60 } as const;

/**
 * Asking for a human: a callback (number, a good time, a language) or a written message. Both land in
 * the staff support queue (`support_requests`), tied to the person when they have signed in.
 */
export function registerSupport(app: Express, deps: SupportDeps): void {
  const forms = [...formProtection(deps), portalContext(deps)];
  const perClient = createRateLimit(deps, { name: 'support-client', ...SUPPORT_LIMIT });

  async function signedIn(res: Response, incident: Incident) {
    const person = res.locals.person;
    return person && person.incidentId === incident.id ? loadProfile(deps.db, deps.vault, person.id) : null;
  }

  async function renderForms(
    res: Response,
    incident: Incident,
    extra: { errors?: FieldError[]; values?: Record<string, string>; form?: 'callback' | 'message' } = {},
  ) {
    const profile = await signedIn(res, incident);
    res.render('support/index', {
      slug: incident.slug,
      organisation: incident.organisationName,
      signedIn: profile !== null,
      times: PREFERRED_TIMES,
      slotHours: CALLBACK_HOURS,
      // The person's own zone when we know it; else the organisation's.
      zone: profile?.timeZone ?? null,
      now: deps.clock.now(),
      locales: SUPPORTED_LOCALES,
      errors: [],
      form: null,
      ...extra,
      values: { phone: profile?.phone ?? '', locale: res.locals.lang, ...extra.values },
    });
  }

  async function allowed(req: Request, res: Response): Promise<boolean> {
    const limit = await consumeAll([{ limit: perClient, key: req.ip ?? 'unknown' }]);
    if (!limit.allowed) refuseTooMany(res, limit.retryAfterSeconds);
    return limit.allowed;
  }

  app.get('/incidents/:slug/support', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    await renderForms(res, incident);
  });

  app.post('/incidents/:slug/support/callback', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const profile = await signedIn(res, incident);
    const form = parseForm(callbackForm(profile?.country ?? null), req.body);
    if (!form.ok) {
      res.status(400);
      return renderForms(res, incident, {
        errors: form.errors,
        values: formValues(req.body),
        form: 'callback',
      });
    }
    if (!(await allowed(req, res))) return;
    await insertSupportRequest(deps.db, deps.vault, {
      kind: 'callback',
      incidentId: incident.id,
      personId: profile?.id ?? null,
      phone: form.data.phone,
      preferredTime: form.data.preferredTime,
      locale: form.data.locale,
      at: deps.clock.now(),
    });
    res.redirect(303, `/incidents/${incident.slug}/support/sent?kind=callback`);
  });

  app.post('/incidents/:slug/support/message', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const profile = await signedIn(res, incident);
    const form = parseForm(messageForm(profile !== null), req.body);
    if (!form.ok) {
      res.status(400);
      return renderForms(res, incident, {
        errors: form.errors,
        values: formValues(req.body),
        form: 'message',
      });
    }
    if (!(await allowed(req, res))) return;
    await insertSupportRequest(deps.db, deps.vault, {
      kind: 'message',
      incidentId: incident.id,
      personId: profile?.id ?? null,
      message: form.data.message,
      name: form.data.name,
      replyEmail: form.data.replyEmail,
      locale: res.locals.lang,
      at: deps.clock.now(),
    });
    res.redirect(303, `/incidents/${incident.slug}/support/sent?kind=message`);
  });

  app.get('/incidents/:slug/support/sent', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    res.render('support/sent', {
      slug: incident.slug,
      organisation: incident.organisationName,
      kind: req.query.kind === 'callback' ? 'callback' : 'message',
      signedIn: (await signedIn(res, incident)) !== null,
    });
  });
}
