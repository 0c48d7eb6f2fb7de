import type { RequestHandler } from 'express';
import { handle } from 'i18next-http-middleware';
import {
  LANGUAGE_COOKIE,
  resolveLocale,
  SUPPORTED_LOCALES,
  textDirection,
  type I18n,
} from '../platform/i18n.js';

/** Detects the page locale (?lang=, cookie, Accept-Language) and gives every view `t`, `lang` and `dir`. */
export function localeMiddleware(i18n: I18n): RequestHandler[] {
  return [
    handle(i18n),
    (req, res, next) => {
      const lang = resolveLocale(req.language);
      res.locals.lang = lang;
      res.locals.dir = textDirection(lang);
      res.locals.t = i18n.getFixedT(lang);
      res.locals.supportedLocales = SUPPORTED_LOCALES;
      if (
        typeof req.query.lang === 'string' &&
        (SUPPORTED_LOCALES as readonly string[]).includes(req.query.lang)
      ) {
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
    },
  ];
}
