import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** A fresh nonce per response, for the rare inline script; everything else comes from 'self'. */
export const cspNonce: RequestHandler = (_req, res, next) => {
  res.locals.cspNonce = crypto.randomBytes(16).toString('base64');
  next();
};

function helmetFor(options: { production: boolean; nonce: boolean }) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: options.nonce
          ? [
              "'self'",
              (_req, res) =>
                `'nonce-${(res as unknown as { locals: { cspNonce: string } }).locals.cspNonce}'`,
            ]
          : ["'self'"],
        styleSrc: ["'self'"],
        // The Devanagari and Arabic web fonts (src/web/fonts.ts) come from us; no font host is needed.
        fontSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: options.production ? [] : null,
      },
    },
    strictTransportSecurity: options.production,
    referrerPolicy: { policy: 'no-referrer' },
  });
}

export function securityHeaders(options: { production: boolean }): RequestHandler {
  return helmetFor({ ...options, nonce: true });
}

/**
 * The same headers for a page with no inline script at all, worked out once: the cached status page
 * serves them on its fast path instead of building them per request.
 */
export function staticSecurityHeaders(options: { production: boolean }): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name];
    },
  };
  helmetFor({ ...options, nonce: false })({} as Request, recorder as unknown as Response, () => undefined);
  return headers;
}
