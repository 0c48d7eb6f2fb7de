import { z } from 'zod';
import type { Express, Response } from 'express';
import type { Deps } from '../deps.js';
import type { Incident } from '../incidents/store.js';
import { normalizeEmail } from '../people/contact.js';
import { parseForm, type FieldError } from '../web/forms.js';
import { formProtection } from '../web/session.js';
import { portalContext } from '../web/portal.js';
import { consumeAll, createRateLimit } from '../platform/rate-limit.js';
import { refuseTooMany } from '../web/rate-limit.js';
import { publishedIncidentOr404 } from '../web/published-incident.js';
import { LOOKUP_LIMITS } from '../lookup/limits.js';
import { confirmSubscription, requestSubscription } from './service.js';

type SubscriptionDeps = Pick<Deps, 'db' | 'vault' | 'clock' | 'redis' | 'config' | 'i18n' | 'portalQueue'>;

const subscribeForm = z.object({
  email: z
    .string()
    .trim()
    .min(1, 'subscribe:errors.emailMissing')
    .refine((value) => normalizeEmail(value) !== null, 'subscribe:errors.emailInvalid')
    .transform((value) => normalizeEmail(value)!),
});

/** Updates by email for anyone, confirmed by a link to that address before anything is sent. */
export function registerSubscriptions(app: Express, deps: SubscriptionDeps): void {
  const forms = [...formProtection(deps), portalContext(deps)];
  const perClient = createRateLimit(deps, { name: 'subscribe-client', ...LOOKUP_LIMITS.perClient });
  const perTarget = createRateLimit(deps, { name: 'subscribe-target', ...LOOKUP_LIMITS.perTarget });

  const renderForm = (
    res: Response,
    incident: Incident,
    extra: { errors?: FieldError[]; values?: Record<string, string> } = {},
  ) =>
    res.render('subscriptions/start', {
      slug: incident.slug,
      organisation: incident.organisationName,
      errors: [],
      values: {},
      ...extra,
    });

  app.get('/incidents/:slug/subscribe', ...forms, async (req, res) => {
    renderForm(res, await publishedIncidentOr404(deps, req.params.slug));
  });

  app.post('/incidents/:slug/subscribe', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const form = parseForm(subscribeForm, req.body);
    if (!form.ok) {
      res.status(400);
      return renderForm(res, incident, form);
    }
    const limit = await consumeAll([
      { limit: perClient, key: req.ip ?? 'unknown' },
      { limit: perTarget, key: deps.vault.hash('email', form.data.email).toString('hex') },
    ]);
    if (!limit.allowed) return refuseTooMany(res, limit.retryAfterSeconds);
    await requestSubscription(deps, {
      incidentId: incident.id,
      email: form.data.email,
      locale: res.locals.lang,
    });
    res.render('subscriptions/check-email', { slug: incident.slug, organisation: incident.organisationName });
  });

  app.get('/incidents/:slug/subscribe/confirm', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    res.render('subscriptions/confirm', {
      slug: incident.slug,
      organisation: incident.organisationName,
      token: typeof req.query.token === 'string' ? req.query.token : '',
      failed: false,
    });
  });

  app.post('/incidents/:slug/subscribe/confirm', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const body = req.body as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : '';
    const confirmed = token !== '' && (await confirmSubscription(deps, { incidentId: incident.id, token }));
    if (!confirmed) {
      res.status(400).render('subscriptions/confirm', {
        slug: incident.slug,
        organisation: incident.organisationName,
        token: '',
        failed: true,
      });
      return;
    }
    res.render('subscriptions/confirmed', { slug: incident.slug, organisation: incident.organisationName });
  });
}
