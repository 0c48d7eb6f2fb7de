import type { Request } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { parseForm } from '../../web/forms.js';
import { regenerate } from '../../web/session.js';
import {
  completeSignIn,
  createSignInLimits,
  signIn,
  verifySecondFactor,
  type SignInDeps,
} from '../../staff/sign-in.js';
import { checkTotp, newTotpSecret, totpUri } from '../../staff/totp.js';
import { findStaffCredentials, setStaffTotpSecret } from '../../staff/store.js';
import { clientOf, type ConsoleRoute } from '../routing.js';

const signInForm = z.object({
  email: z.string().trim().min(1, 'console:auth.errors.emailMissing'),
  password: z.string().min(1, 'console:auth.errors.passwordMissing'),
});
const codeForm = z.object({ code: z.string().trim().min(1, 'console:auth.errors.codeMissing') });

/** Only our own console pages: an open redirect would let a phishing link borrow our sign-in page. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/console(\/[\w\-/?=&%.]*)?$/.test(value) && !value.startsWith('//')
    ? value
    : '/console';
}

export function authRoutes(deps: Deps): ConsoleRoute[] {
  const signInDeps: SignInDeps = { ...deps, limits: createSignInLimits(deps) };

  const renderSetup = async (req: Request, errors: { field: string; messageKey: string }[] = []) => {
    const staffId = req.session.staff!.id;
    if (!req.session.totpSetupSecret) req.session.totpSetupSecret = deps.vault.seal(newTotpSecret());
    const secret = deps.vault.open(req.session.totpSetupSecret);
    const account = await findStaffCredentials(deps.db, deps.vault, staffId);
    const uri = totpUri(secret, account?.displayName ?? `staff-${staffId}`, 'Candor');
    return { secret, qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 200 }), errors };
  };

  return [
    {
      method: 'get',
      path: '/console/sign-in',
      access: 'public',
      handler: (req, res) => {
        res.render('console/auth/sign-in', { errors: [], values: {}, next: safeNext(req.query.next) });
      },
    },
    {
      method: 'post',
      path: '/console/sign-in',
      access: 'public',
      handler: async (req, res) => {
        const next = safeNext(req.query.next);
        const form = parseForm(signInForm, req.body);
        if (!form.ok) {
          res.status(400).render('console/auth/sign-in', { errors: form.errors, values: form.values, next });
          return;
        }
        const result = await signIn(signInDeps, { ...form.data, client: clientOf(req) });
        if (result.outcome === 'throttled') {
          res.status(429).set('Retry-After', String(result.retryAfterSeconds));
          res.render('console/auth/sign-in', {
            errors: [],
            values: { email: form.data.email },
            next,
            throttled: Math.max(1, Math.ceil(result.retryAfterSeconds / 60)),
          });
          return;
        }
        if (result.outcome === 'invalid') {
          // One message for unknown email and wrong password: the form must not confirm who has an account.
          res.status(400).render('console/auth/sign-in', {
            errors: [{ field: 'email', messageKey: 'console:auth.errors.badCredentials' }],
            values: { email: form.data.email },
            next,
          });
          return;
        }
        await regenerate(req);
        req.session.staff = {
          id: result.staff.id,
          role: result.staff.role,
          secondFactorDone: result.secondFactor === 'none',
          epoch: result.staff.sessionEpoch,
        };
        const destination =
          result.secondFactor === 'required'
            ? `/console/sign-in/code?next=${encodeURIComponent(next)}`
            : result.secondFactor === 'setup-required'
              ? '/console/second-factor/setup'
              : next;
        res.redirect(303, destination);
      },
    },
    {
      method: 'get',
      path: '/console/sign-in/code',
      access: 'pending',
      handler: (_req, res) => {
        res.render('console/auth/code', { errors: [] });
      },
    },
    {
      method: 'post',
      path: '/console/sign-in/code',
      access: 'pending',
      audit: 'staff.second_factor',
      handler: async (req, res) => {
        const form = parseForm(codeForm, req.body);
        if (!form.ok) {
          res.status(400).render('console/auth/code', { errors: form.errors });
          return;
        }
        const staff = req.session.staff!;
        const result = await verifySecondFactor(signInDeps, {
          staffId: staff.id,
          code: form.data.code,
          client: clientOf(req),
        });
        if (result !== 'ok') {
          res.status(typeof result === 'object' ? 429 : 400).render('console/auth/code', {
            errors: [
              {
                field: 'code',
                messageKey:
                  typeof result === 'object'
                    ? 'console:auth.errors.tooManyCodes'
                    : 'console:auth.errors.badCode',
              },
            ],
          });
          return;
        }
        await regenerate(req);
        req.session.staff = { ...staff, secondFactorDone: true };
        res.redirect(303, safeNext(req.query.next));
      },
    },
    {
      method: 'get',
      path: '/console/second-factor/setup',
      access: 'pending',
      handler: async (req, res) => {
        res.render('console/auth/setup', await renderSetup(req));
      },
    },
    {
      method: 'post',
      path: '/console/second-factor/setup',
      access: 'pending',
      audit: 'staff.second_factor_set_up',
      handler: async (req, res) => {
        const form = parseForm(codeForm, req.body);
        const sealed = req.session.totpSetupSecret;
        const staff = req.session.staff!;
        // Someone who already has a factor proves it first; setting up a new one is not a way around it.
        const account = await findStaffCredentials(deps.db, deps.vault, staff.id);
        if (account?.totpSecret && !staff.secondFactorDone) {
          res.redirect(303, '/console/sign-in/code');
          return;
        }
        const check =
          form.ok && sealed
            ? await checkTotp(deps.vault.open(sealed), form.data.code, {
                now: deps.clock.now(),
                lastStep: null,
              })
            : { valid: false as const };
        if (!form.ok || !sealed || !check.valid) {
          res
            .status(400)
            .render(
              'console/auth/setup',
              await renderSetup(req, [{ field: 'code', messageKey: 'console:auth.errors.badCode' }]),
            );
          return;
        }
        await setStaffTotpSecret(deps.db, deps.vault, staff.id, deps.vault.open(sealed), check.step);
        if (!staff.secondFactorDone) await completeSignIn(deps, staff.id);
        await regenerate(req);
        req.session.staff = { ...staff, secondFactorDone: true };
        res.redirect(303, '/console');
      },
    },
    {
      method: 'post',
      path: '/console/sign-out',
      access: 'pending',
      audit: 'staff.sign_out',
      handler: async (req, res) => {
        await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
        res.clearCookie('candor.sid');
        res.redirect(303, '/console/sign-in');
      },
    },
  ];
}
