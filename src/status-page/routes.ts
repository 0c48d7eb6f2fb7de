import type { Express } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import {
  findPublishedIncident,
  listIncidentUpdates,
  listPublishedIncidents,
  localizedText,
} from '../incidents/store.js';

type StatusPageDeps = Pick<Deps, 'db'>;

/** The public incident page: what happened, what to do, and a dated timeline, in the reader's language. */
export function registerStatusPage(app: Express, deps: StatusPageDeps): void {
  app.get('/', async (_req, res) => {
    const incidents = await listPublishedIncidents(deps.db);
    if (incidents.length === 1) {
      res.redirect(
        303,
        `/incidents/${incidents[0]!.slug}${res.locals.lang === 'en' ? '' : `?lang=${res.locals.lang}`}`,
      );
      return;
    }
    res.render('status-page/index', {
      incidents: incidents.map((incident) => ({
        slug: incident.slug,
        organisation: incident.organisationName,
        title: localizedText(incident.texts, res.locals.lang, incident.defaultLocale)?.title ?? incident.slug,
      })),
    });
  });

  app.get('/incidents/:slug', async (req, res) => {
    const incident = await findPublishedIncident(deps.db, req.params.slug);
    if (!incident) throw new NotFoundError('no such incident');
    const lang = res.locals.lang;
    const text = localizedText(incident.texts, lang, incident.defaultLocale);
    const updates = await listIncidentUpdates(deps.db, incident.id);
    res.render('status-page/incident', {
      incident,
      text,
      helpline: localizedText(incident.helplines, lang, incident.defaultLocale),
      updates: updates.map((update) => ({
        ...localizedText(update.texts, lang, incident.defaultLocale),
        publishedAt: update.publishedAt,
      })),
      formatDate: (date: Date) =>
        new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(
          date,
        ),
    });
  });
}
