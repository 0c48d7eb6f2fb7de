import type { TFunction } from 'i18next';
import type { StaffRole } from '../staff/store.js';
import type { Permission } from '../staff/permissions.js';
import type { StockWarning } from '../codes/store.js';

// Request-scoped values, written only by middleware in src/web/ and the feature routers' own middleware.
declare global {
  namespace Express {
    interface Locals {
      cspNonce: string;
      /** The page's locale, a supported one. */
      lang: string;
      dir: 'ltr' | 'rtl';
      t: TFunction;
      /** The zone the page's times are shown in: the organisation's (src/web/locale.ts). */
      timeZone: string;
      /** A moment in the page's language and zone, the zone named ("2 Mar 2026, 10:00 GMT"; `time`: "10:00 GMT"). */
      formatWhen: (date: Date, part?: 'time') => string;
      /** A slot's local hours with the zone's name on day `on` ("17:00–20:00 GMT"), in `zone` or the page's. */
      formatSlotHours: (
        slot: { startMinute: number; endMinute: number },
        zone: string | null,
        on: Date,
      ) => string;
      /** The current path and query, for the language switcher's links. */
      currentPath: string;
      supportedLocales: readonly string[];
      /** Set on pages with forms (src/web/session.ts). */
      csrfToken?: string;
      /** The signed-in staff member or API key holder (src/console/routing.ts, src/api/routing.ts). */
      staff?: { id: number; displayName: string; role: StaffRole; secondFactorDone: boolean };
      /** The API key in use, when the request came through /api/v1. */
      apiKeyId?: number;
      /** Whether the signed-in staff member holds a permission: for showing only the links they may use. */
      can?: (permission: Permission) => boolean;
      /** Set on portal pages when a member of the public has proved who they are (src/web/portal.ts). */
      person?: { id: number; incidentId: number; locale: string };
      /** Code pools running low or empty, for the console's banner (src/codes/console-routes.ts). */
      codeStockWarnings?: StockWarning[];
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    /** Set once a member of the public has proved who they are (reference code + verifier, or a one-time code). */
    portal?: { personId: number; verifiedAt: number };
    /** The language a signed-in person picked on the page; wins over their record for this visit. */
    portalLang?: string;
    /** The "send me a code" request this browser made, so the code form needs no id in the page. */
    pendingAccess?: { publicId: string; incidentId: number };
    /**
     * Set once a staff member has signed in (and passed TOTP where their role needs it). `epoch` is the
     * account's session epoch at sign-in: when an admin switches the account off or resets its
     * authenticator the epoch moves on, and this session ends. Sessions from before epochs existed read 0.
     */
    staff?: { id: number; role: string; secondFactorDone: boolean; epoch?: number };
    /** A TOTP secret being set up (sealed), kept until the member proves their app holds it. */
    totpSetupSecret?: string;
  }
}

export {};
