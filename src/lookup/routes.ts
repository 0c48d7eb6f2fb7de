import type { Express, Request, Response } from 'express';
import type { Deps } from '../deps.js';
import { formValues, parseForm, type FieldError } from '../web/forms.js';
import { formProtection } from '../web/session.js';
import { consumeAll } from '../platform/rate-limit.js';
import { refuseTooMany } from '../web/rate-limit.js';
import { portalContext, signInPerson } from '../web/portal.js';
import { publishedIncidentOr404 } from '../web/published-incident.js';
import { createLookupLimits } from './limits.js';
import { codeForm, contactForm, referenceForm } from './validation.js';
import { ACCESS_CODE_MINUTES, redeemCode, requestAccess, verifyReference } from './service.js';

type LookupDeps = Pick<Deps, 'db' | 'vault' | 'clock' | 'redis' | 'config' | 'i18n' | 'portalQueue'>;

function clientKey(req: Request): string {
  return req.ip ?? 'unknown';
}

/**
 * "Was I affected?": by the reference code on a notice plus a verifier, or by an email address or
 * phone number that gets a one-time code. No answer here says whether anyone is on file.
 */
export function registerLookup(app: Express, deps: LookupDeps): void {
  const forms = [...formProtection(deps), portalContext(deps)];
  const limits = createLookupLimits(deps);

  const renderStart = (
    res: Response,
    slug: string,
    organisation: string,
    extra: { errors?: FieldError[]; values?: Record<string, string>; form?: 'reference' | 'contact' } = {},
  ) => res.render('lookup/start', { slug, organisation, errors: [], values: {}, form: null, ...extra });

  app.get('/incidents/:slug/check', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    renderStart(res, incident.slug, incident.organisationName);
  });

  app.post('/incidents/:slug/check/reference', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const form = parseForm(referenceForm, req.body);
    if (!form.ok) {
      res.status(400);
      renderStart(res, incident.slug, incident.organisationName, { ...form, form: 'reference' });
      return;
    }
    const limit = await consumeAll([
      { limit: limits.perClient, key: clientKey(req) },
      {
        limit: limits.perTarget,
        key: `reference-${deps.vault.hash('reference', form.data.reference).toString('hex')}`,
      },
    ]);
    if (!limit.allowed) return refuseTooMany(res, limit.retryAfterSeconds);
    const personId = await verifyReference(deps, { incidentId: incident.id, ...form.data });
    if (personId === null) {
      res.status(400);
      renderStart(res, incident.slug, incident.organisationName, {
        errors: [{ field: 'reference', messageKey: 'lookup:errors.noMatch' }],
        values: formValues(req.body),
        form: 'reference',
      });
      return;
    }
    await signInPerson(req, personId, deps.clock.now());
    res.redirect(303, `/incidents/${incident.slug}/me`);
  });

  app.post('/incidents/:slug/check/contact', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const form = parseForm(contactForm, req.body);
    if (!form.ok) {
      res.status(400);
      renderStart(res, incident.slug, incident.organisationName, { ...form, form: 'contact' });
      return;
    }
    const contact = form.data.contact;
    const targetHash = deps.vault.hash(contact.channel === 'email' ? 'email' : 'phone', contact.value);
    const limit = await consumeAll([
      { limit: limits.perClient, key: clientKey(req) },
      { limit: limits.perTarget, key: `${contact.channel}-${targetHash.toString('hex')}` },
    ]);
    if (!limit.allowed) return refuseTooMany(res, limit.retryAfterSeconds);
    const { publicId } = await requestAccess(deps, {
      incidentId: incident.id,
      contact,
      locale: res.locals.lang,
    });
    req.session.pendingAccess = { publicId, incidentId: incident.id };
    // The same page whatever happens next; it does not even repeat what was typed.
    res.render('lookup/code', {
      slug: incident.slug,
      organisation: incident.organisationName,
      sent: true,
      channel: contact.channel,
      minutes: ACCESS_CODE_MINUTES,
      errors: [],
      values: {},
      requestId: null,
    });
  });

  // The link in the message lands here; the code is filled in, the person confirms with one button
  // (a GET that signed people in would be used up by mail scanners that follow links).
  app.get('/incidents/:slug/check/code', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const requestId = typeof req.query.request === 'string' ? req.query.request : null;
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    res.render('lookup/code', {
      slug: incident.slug,
      organisation: incident.organisationName,
      sent: false,
      channel: null,
      minutes: ACCESS_CODE_MINUTES,
      errors: [],
      values: { code },
      requestId,
    });
  });

  app.post('/incidents/:slug/check/code', ...forms, async (req, res) => {
    const incident = await publishedIncidentOr404(deps, req.params.slug);
    const form = parseForm(codeForm, req.body);
    const pending = req.session.pendingAccess;
    const publicId =
      (form.ok ? form.data.request : undefined) ??
      (pending && pending.incidentId === incident.id ? pending.publicId : undefined);
    const rerender = (errors: FieldError[]) => {
      res.status(400).render('lookup/code', {
        slug: incident.slug,
        organisation: incident.organisationName,
        sent: false,
        channel: null,
        minutes: ACCESS_CODE_MINUTES,
        errors,
        values: {},
        requestId: form.ok ? (form.data.request ?? null) : null,
      });
    };
    if (!form.ok) return rerender(form.errors);
    if (!publicId) return rerender([{ field: 'code', messageKey: 'lookup:errors.codeWrong' }]);
    const limit = await consumeAll([
      { limit: limits.perClient, key: clientKey(req) },
      { limit: limits.perCodeRequest, key: publicId },
    ]);
    if (!limit.allowed) return refuseTooMany(res, limit.retryAfterSeconds);
    const personId = await redeemCode(deps, { incidentId: incident.id, publicId, code: form.data.code });
    if (personId === null) return rerender([{ field: 'code', messageKey: 'lookup:errors.codeWrong' }]);
    await signInPerson(req, personId, deps.clock.now());
    res.redirect(303, `/incidents/${incident.slug}/me`);
  });
}
