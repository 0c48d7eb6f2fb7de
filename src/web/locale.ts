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
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** The best supported locale for an Accept-Language header, by the browser's own order of preference. */
export function fromAcceptLanguage(header: string | undefined): SupportedLocale | null {
  if (!header) return null;
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

/** ?lang= (a choice on the page), then the cookie that choice left, then the browser's languages. */
export function detectLocale(req: Request): SupportedLocale {
  const query = typeof req.query.lang === 'string' ? req.query.lang : undefined;
  return (
    supported(query) ??
    supported(cookieValue(req.headers.cookie, LANGUAGE_COOKIE)) ??
    fromAcceptLanguage(req.headers['accept-language']) ??
    'en'
  );
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
