import type { Request, RequestHandler } from 'express';
import {
  LANGUAGE_COOKIE,
  resolveLocale,
  SUPPORTED_LOCALES,
  textDirection,
  type I18n,
  type SupportedLocale,
  type TFunction,
} from '../platform/i18n.js';
import { formatDateTime, formatHours, formatTime } from '../platform/time-format.js';

const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_LOCALES);

function supported(tag: string | undefined): SupportedLocale | null {
  return tag && SUPPORTED.has(tag) ? (tag as SupportedLocale) : null;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      // A cookie that is not valid percent-encoding chooses nothing, rather than failing the page.
      return undefined;
    }
  }
  return undefined;
}

/** The best supported locale for an Accept-Language header, by the browser's own order of preference. */
export function fromAcceptLanguage(header: string | undefined): SupportedLocale | null {
  if (!header) return null;
  const known = fromHeader.get(header);
  if (known !== undefined) return known;
  const locale = parseAcceptLanguage(header);
  // Browsers send a handful of distinct headers; a bound keeps odd clients from growing the map.
  if (fromHeader.size < 256) fromHeader.set(header, locale);
  return locale;
}

const fromHeader = new Map<string, SupportedLocale | null>();

function parseAcceptLanguage(header: string): SupportedLocale | null {
  const ranked = header
    .split(',')
    .map((entry, index) => {
      const [tag = '', ...params] = entry.trim().split(';');
      const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.tag !== '' && entry.tag !== '*' && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    const locale = resolveLocale(tag);
    // resolveLocale falls back to English; only take English when English was asked for.
    if (locale !== 'en' || tag.toLowerCase().split('-')[0] === 'en') return locale;
  }
  return null;
}

/**
 * The one decision of a page's language: ?lang= (a choice on the page), then the cookie that choice
 * left, then the browser's languages, then English. Express routes reach it through detectLocale; the
 * status page's fast path (src/status-page/fast-path.ts), which answers before Express, calls it
 * directly with the raw headers.
 */
export function chooseLocale(asked: {
  query: string | undefined;
  cookie: string | undefined;
  acceptLanguage: string | undefined;
}): SupportedLocale {
  return (
    supported(asked.query) ??
    supported(cookieValue(asked.cookie, LANGUAGE_COOKIE)) ??
    fromAcceptLanguage(asked.acceptLanguage) ??
    'en'
  );
}

export function detectLocale(req: Request): SupportedLocale {
  return chooseLocale({
    query: typeof req.query.lang === 'string' ? req.query.lang : undefined,
    cookie: req.headers.cookie,
    acceptLanguage: req.headers['accept-language'],
  });
}

/**
 * Detects the page locale and gives every view `t`, `lang` and `dir`. Our own small detector rather than
 * i18next-http-middleware's, which clones the i18n instance on every request: the status page has to
 * keep up with a bare route when everyone arrives at once.
 */
export function localeMiddleware(i18n: I18n): RequestHandler {
  const translators = new Map<string, TFunction>(
    SUPPORTED_LOCALES.map((locale) => [locale, i18n.getFixedT(locale)]),
  );
  return (req, res, next) => {
    const lang = detectLocale(req);
    res.locals.lang = lang;
    res.locals.dir = textDirection(lang);
    res.locals.t = translators.get(lang)!;
    res.locals.supportedLocales = SUPPORTED_LOCALES;
    if (typeof req.query.lang === 'string' && supported(req.query.lang)) {
      res.cookie(LANGUAGE_COOKIE, lang, {
        sameSite: 'lax',
        httpOnly: true,
        maxAge: 365 * 24 * 3600 * 1000,
      });
    }
    const url = new URL(req.originalUrl, 'http://candor.invalid');
    url.searchParams.delete('lang');
    res.locals.currentPath = url.pathname + url.search;
    next();
  };
}

/**
 * Gives every view `formatWhen` (a moment with its zone, in the page's language) and `timeZone`. Reads
 * `lang` when called, so a page whose language is settled later (a signed-in person's) still matches.
 */
export function timeLocals(timeZone: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.timeZone = timeZone;
    res.locals.formatWhen = (date, part) => {
      const options = { lang: res.locals.lang, timeZone: res.locals.timeZone };
      return part === 'time'
        ? formatTime(date, options)
        : formatDateTime(date, { ...options, style: 'short' });
    };
    res.locals.formatSlotHours = (slot, zone, on) =>
      formatHours(slot, { lang: res.locals.lang, timeZone: zone ?? res.locals.timeZone, on });
    next();
  };
}
