import type { Express, Request, RequestHandler, Response } from 'express';
import type { Deps } from '../deps.js';
import {
  findPublishedIncident,
  listIncidentUpdates,
  listPublishedIncidents,
  localizedText,
  type Incident,
} from '../incidents/store.js';
import { NotFoundError } from '../platform/errors.js';
import { buildAtomFeed, tagUri } from './feed.js';
import { cached, peekMemory, statusPageCacheKey } from './cache.js';
import { detectLocale } from '../web/locale.js';
import { staticSecurityHeaders } from '../web/security.js';

type StatusPageDeps = Pick<Deps, 'db' | 'redis' | 'config' | 'i18n'>;

// The page's language follows the cookie and the browser's languages, so shared caches must keep them apart.
const VARY = 'Accept-Language, Cookie';

/**
 * The hot path when everyone arrives at once: a plain request for a status page this process rendered
 * or read in the last second is answered from memory, with security headers worked out once, before
 * any per-request middleware. Anything else (a query, a cold cache) goes the ordinary way, which
 * renders, fills the caches and answers.
 */
export function statusPageFastPath(deps: Pick<Deps, 'config'>): RequestHandler {
  const headers = {
    ...staticSecurityHeaders({ production: deps.config.env === 'production' }),
    'Content-Type': 'text/html; charset=utf-8',
    Vary: VARY,
    'X-Candor-Cache': 'hit',
  };
  return (req, res, next) => {
    const slug = req.params.slug;
    if (typeof slug !== 'string' || req.url.includes('?')) return next();
    const page = peekMemory(statusPageCacheKey(deps.config.queuePrefix, slug, 'page', detectLocale(req)));
    if (!page) return next();
    res.set(headers).set('ETag', page.etag).send(page.bytes);
  };
}

function renderToString(res: Response, view: string, locals: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) =>
    res.render(view, locals, (error: Error | null, html?: string) =>
      error ? reject(error) : resolve(html ?? ''),
    ),
  );
}

/** Only the plain page (and its ?lang= twins) is shared; anything else in the query renders afresh. */
function cacheable(req: Request): boolean {
  return Object.keys(req.query).every((key) => key === 'lang');
}

async function publishedOr404(deps: Pick<Deps, 'db'>, slug: string | undefined): Promise<Incident> {
  const incident = slug ? await findPublishedIncident(deps.db, slug) : null;
  if (!incident) throw new NotFoundError('no such incident');
  return incident;
}

/**
 * The public incident page: what happened, what to do, how to tell it is really us, helplines per
 * language, and a dated timeline, in the reader's language; plus its Atom feed. Cookie-free, so the
 * rendering can be shared by everyone who reads that language.
 */
export function registerStatusPage(app: Express, deps: StatusPageDeps): void {
  const publicUrl = new URL(deps.config.publicBaseUrl);

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

  async function renderIncidentPage(res: Response, incident: Incident): Promise<string> {
    const lang = res.locals.lang;
    const updates = await listIncidentUpdates(deps.db, incident.id);
    const helplines = Object.entries(incident.helplines).sort(([a], [b]) =>
      a === lang ? -1 : b === lang ? 1 : a.localeCompare(b),
    );
    return renderToString(res, 'status-page/incident', {
      incident,
      text: localizedText(incident.texts, lang, incident.defaultLocale),
      helpline: localizedText(incident.helplines, lang, incident.defaultLocale),
      helplines,
      domain: publicUrl.host,
      feedUrl: `/incidents/${incident.slug}/feed.atom${lang === 'en' ? '' : `?lang=${lang}`}`,
      updates: updates.map((update) => ({
        id: update.id,
        ...localizedText(update.texts, lang, incident.defaultLocale),
        publishedAt: update.publishedAt,
      })),
      formatDate: (date: Date) =>
        new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(
          date,
        ),
    });
  }

  app.get('/incidents/:slug', async (req, res) => {
    const slug = req.params.slug;
    const lang = res.locals.lang;
    if (!cacheable(req)) {
      res.send(await renderIncidentPage(res, await publishedOr404(deps, slug)));
      return;
    }
    const page = await cached(
      deps,
      statusPageCacheKey(deps.config.queuePrefix, slug, 'page', lang),
      async () => renderIncidentPage(res, await publishedOr404(deps, slug)),
    );
    res.set({ 'X-Candor-Cache': page.hit ? 'hit' : 'miss', ETag: page.etag, Vary: VARY });
    res.type('html').send(page.body);
  });

  app.get('/incidents/:slug/feed.atom', async (req, res) => {
    const slug = req.params.slug;
    const lang = res.locals.lang;
    const feed = await cached(
      deps,
      statusPageCacheKey(deps.config.queuePrefix, slug, 'feed', lang),
      async () => {
        const incident = await publishedOr404(deps, slug);
        const t = res.locals.t;
        const text = localizedText(incident.texts, lang, incident.defaultLocale);
        const updates = await listIncidentUpdates(deps.db, incident.id);
        const pageUrl = new URL(`/incidents/${slug}?lang=${lang}`, publicUrl).toString();
        const since = incident.publishedAt ?? incident.updatedAt;
        return buildAtomFeed({
          id: tagUri(publicUrl.hostname, since, `incident-${slug}-${lang}`),
          selfUrl: new URL(`/incidents/${slug}/feed.atom?lang=${lang}`, publicUrl).toString(),
          pageUrl,
          title: text?.title ?? t('status:pageTitle', { organisation: incident.organisationName }),
          organisation: incident.organisationName,
          locale: lang,
          updated: incident.updatedAt,
          entries: updates.map((update) => {
            const texts = localizedText(update.texts, lang, incident.defaultLocale);
            return {
              id: tagUri(publicUrl.hostname, since, `incident-${slug}-update-${update.id}`),
              title: texts?.title ?? '',
              body: texts?.body ?? '',
              published: update.publishedAt,
              url: `${pageUrl}#update-${update.id}`,
            };
          }),
        });
      },
    );
    res.set('ETag', feed.etag);
    res.type('application/atom+xml; charset=utf-8').send(feed.body);
  });
}
