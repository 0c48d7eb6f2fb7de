import type { Request, RequestHandler, Response } from 'express';
import type { Deps } from '../deps.js';
import { resolveLocale, SUPPORTED_LOCALES, textDirection } from '../platform/i18n.js';
import { findPersonScope } from '../people/store.js';

/**
 * The public side's idea of "signed in": a person who proved who they are with their reference code
 * and a verifier, or with a one-time code sent to their contact on file.
 */

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error('session store error');
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((error: unknown) => (error ? reject(toError(error)) : resolve())),
  );
}

/** A fresh session id on sign-in, so a session fixed before it is worth nothing after. */
export async function signInPerson(req: Request, personId: number, now: Date): Promise<void> {
  const lang = req.session.portalLang;
  await regenerate(req);
  req.session.portal = { personId, verifiedAt: now.getTime() };
  if (lang) req.session.portalLang = lang;
}

export function signOutPerson(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.destroy((error: unknown) => (error ? reject(toError(error)) : resolve())),
  );
}

function setLocale(res: Response, deps: Pick<Deps, 'i18n'>, lang: string): void {
  res.locals.lang = lang;
  res.locals.dir = textDirection(lang);
  res.locals.t = deps.i18n.getFixedT(lang);
}

/**
 * Runs after the session on portal pages: who is signed in (res.locals.person), and which language
 * to speak. A language picked on the page during this visit wins; then the person's own record; then
 * what the locale middleware found (cookie, browser).
 */
export function portalContext(deps: Pick<Deps, 'db' | 'i18n'>): RequestHandler {
  return async (req, res, next) => {
    const picked = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    if (picked && (SUPPORTED_LOCALES as readonly string[]).includes(picked)) req.session.portalLang = picked;
    const portal = req.session.portal;
    if (portal) {
      const scope = await findPersonScope(deps.db, portal.personId);
      if (scope) res.locals.person = { id: portal.personId, ...scope };
    }
    const lang = req.session.portalLang ?? res.locals.person?.locale;
    if (lang) setLocale(res, deps, resolveLocale(lang));
    next();
  };
}
