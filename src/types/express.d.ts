import type { TFunction } from 'i18next';

// Request-scoped values, written only by the middleware in src/web/.
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
    }
  }
}

export {};
