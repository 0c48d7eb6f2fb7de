import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import ejs from 'ejs';
import { SUPPORTED_LOCALES, textDirection, type I18n } from '../platform/i18n.js';
import { formatDateTime } from '../platform/time-format.js';
import { localizedEntry, localizedText, type Incident, type IncidentUpdate } from '../incidents/store.js';
import { fallbackMark, languageNames, type LanguageMark } from '../platform/languages.js';
import { buildAtomFeed, tagUri } from './feed.js';
import {
  incidentFeedPath,
  incidentPagePath,
  INDEX_PATH,
  strongEtag,
  type StatusDocument,
} from './documents.js';

const VIEWS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../views');
const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

export interface RenderContext {
  i18n: I18n;
  publicBaseUrl: string;
  /** Keep compiled views between publishes (production), or read them afresh (development). */
  cacheViews: boolean;
  /** The organisation's zone: every date and time on the public pages is shown in it, named. */
  timeZone: string;
}

/** A page as text, before it is encoded and numbered. */
export interface RenderedDocument {
  path: string;
  locale: string;
  status: number;
  location: string | null;
  contentType: string;
  text: string;
}

const HTML = 'text/html; charset=utf-8';
const ATOM = 'application/atom+xml; charset=utf-8';

/**
 * The same locals the locale middleware gives a view on a request, so a published page is the page a
 * request would have rendered, without a request. `currentPath` is the plain address: the language
 * switcher's links add `?lang=` to it.
 */
function viewLocals(context: RenderContext, locale: string, currentPath: string) {
  return {
    t: context.i18n.getFixedT(locale),
    lang: locale,
    dir: textDirection(locale),
    supportedLocales: SUPPORTED_LOCALES,
    currentPath,
  };
}

function renderView(context: RenderContext, view: string, locals: Record<string, unknown>): Promise<string> {
  return ejs.renderFile(path.join(VIEWS, `${view}.ejs`), locals, { cache: context.cacheViews });
}

function withLang(url: string, locale: string): string {
  return locale === 'en' ? url : `${url}?lang=${locale}`;
}

/** The incident's page and Atom feed in every supported locale. */
export async function renderIncidentDocuments(
  context: RenderContext,
  incident: Incident,
  updates: IncidentUpdate[],
): Promise<RenderedDocument[]> {
  const publicUrl = new URL(context.publicBaseUrl);
  const pagePath = incidentPagePath(incident.slug);
  const feedPath = incidentFeedPath(incident.slug);
  const since = incident.publishedAt ?? incident.updatedAt;
  const documents: RenderedDocument[] = [];
  for (const lang of SUPPORTED_LOCALES) {
    const locals = viewLocals(context, lang, pagePath);
    const textEntry = localizedEntry(incident.texts, lang, incident.defaultLocale);
    const text = textEntry?.value ?? null;
    const textMark = fallbackMark(lang, textEntry?.locale);
    const localizedUpdates = updates.map((update) => {
      const entry = localizedEntry(update.texts, lang, incident.defaultLocale);
      return {
        id: update.id,
        publishedAt: update.publishedAt,
        title: entry?.value.title ?? '',
        body: entry?.value.body ?? '',
        mark: fallbackMark(lang, entry?.locale),
      };
    });
    const fallbacks = [textMark, ...localizedUpdates.map((update) => update.mark)].filter(
      (mark): mark is LanguageMark => mark !== null,
    );
    // The reader's own language's helpline first, then the rest in a stable order.
    const helplines = Object.entries(incident.helplines).sort(([a], [b]) =>
      a === lang ? -1 : b === lang ? 1 : a.localeCompare(b),
    );
    const page = await renderView(context, 'status-page/incident', {
      ...locals,
      incident,
      text,
      textMark,
      // Said once, near the top, in the reader's language: which language the unmarked-for-them parts are in.
      fallbackNote:
        fallbacks.length > 0
          ? locals.t('languages:partsOnlyIn', {
              language: languageNames(
                fallbacks.map((mark) => mark.lang),
                lang,
              ),
            })
          : null,
      helpline: localizedText(incident.helplines, lang, incident.defaultLocale),
      helplines,
      domain: publicUrl.host,
      feedUrl: withLang(feedPath, lang),
      updates: localizedUpdates,
      formatDate: (date: Date) => formatDateTime(date, { lang, timeZone: context.timeZone }),
    });
    documents.push({
      path: pagePath,
      locale: lang,
      status: 200,
      location: null,
      contentType: HTML,
      text: page,
    });

    const pageUrl = new URL(`${pagePath}?lang=${lang}`, publicUrl).toString();
    const feed = buildAtomFeed({
      id: tagUri(publicUrl.hostname, since, `incident-${incident.slug}-${lang}`),
      selfUrl: new URL(`${feedPath}?lang=${lang}`, publicUrl).toString(),
      pageUrl,
      title: text?.title ?? locals.t('status:pageTitle', { organisation: incident.organisationName }),
      organisation: incident.organisationName,
      locale: lang,
      updated: incident.updatedAt,
      entries: localizedUpdates.map((update) => ({
        id: tagUri(publicUrl.hostname, since, `incident-${incident.slug}-update-${update.id}`),
        title: update.title,
        body: update.body,
        published: update.publishedAt,
        url: `${pageUrl}#update-${update.id}`,
      })),
    });
    documents.push({
      path: feedPath,
      locale: lang,
      status: 200,
      location: null,
      contentType: ATOM,
      text: feed,
    });
  }
  return documents;
}

function titleOf(incident: Incident, lang: string): { title: string; mark: LanguageMark | null } {
  const entry = localizedEntry(incident.texts, lang, incident.defaultLocale);
  return entry
    ? { title: entry.value.title, mark: fallbackMark(lang, entry.locale) }
    : { title: incident.slug, mark: null };
}

/**
 * The home page in every locale: the list of published incidents, or, when there is exactly one, a
 * redirect to it (most businesses only ever have one).
 */
export async function renderIndexDocuments(
  context: RenderContext,
  incidents: Incident[],
): Promise<RenderedDocument[]> {
  const documents: RenderedDocument[] = [];
  for (const lang of SUPPORTED_LOCALES) {
    const only = incidents.length === 1 ? incidents[0]! : null;
    if (only) {
      const location = withLang(incidentPagePath(only.slug), lang);
      documents.push({
        path: INDEX_PATH,
        locale: lang,
        status: 303,
        location,
        contentType: 'text/plain; charset=utf-8',
        text: `See Other. Redirecting to ${location}`,
      });
      continue;
    }
    const html = await renderView(context, 'status-page/index', {
      ...viewLocals(context, lang, INDEX_PATH),
      incidents: incidents.map((incident) => ({
        slug: incident.slug,
        organisation: incident.organisationName,
        ...titleOf(incident, lang),
      })),
    });
    documents.push({
      path: INDEX_PATH,
      locale: lang,
      status: 200,
      location: null,
      contentType: HTML,
      text: html,
    });
  }
  return documents;
}

/**
 * Encodes each page once, here, rather than on every request: brotli at its best quality costs tens of
 * milliseconds per page, affordable once per publish and never per answer. zlib runs these on its
 * thread pool, so a publish does not stall the pages being served meanwhile.
 */
export async function encodeDocuments(
  rendered: RenderedDocument[],
  version: number,
  publishedAt: Date,
): Promise<StatusDocument[]> {
  return Promise.all(
    rendered.map(async (document) => {
      const body = Buffer.from(document.text, 'utf8');
      const [gzipped, brotlied] = await Promise.all([
        gzip(body, { level: zlib.constants.Z_BEST_COMPRESSION }),
        brotli(body, {
          params: {
            [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
            [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
            [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          },
        }),
      ]);
      return {
        path: document.path,
        locale: document.locale,
        version,
        status: document.status,
        location: document.location,
        contentType: document.contentType,
        etag: strongEtag(body),
        body,
        gzip: gzipped,
        br: brotlied,
        publishedAt,
      };
    }),
  );
}
