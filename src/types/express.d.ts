import type { TFunction } from 'i18next';

// Request-scoped values, written only by middleware in src/web/ and the feature routers' own middleware.
declare global {
  namespace Express {
    interface Locals {
      cspNonce: string;
      /** The page's locale, a supported one. */
      lang: string;
      dir: 'ltr' | 'rtl';
      t: TFunction;
      /** The current path and query, for the language switcher's links. */
      currentPath: string;
      supportedLocales: readonly string[];
      /** Set on pages with forms (src/web/session.ts). */
      csrfToken?: string;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    /** Set once a member of the public has proved who they are (reference code + verifier, or a one-time code). */
    portal?: { personId: number; verifiedAt: number };
    /** Set once a staff member has signed in (and passed TOTP where their role needs it). */
    staff?: { id: number; role: string; secondFactorDone: boolean };
  }
}

export {};
