import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { idOr404 } from '../../platform/ids.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { parseForm, type FieldError } from '../../web/forms.js';
import { noteAudit } from '../../web/audit-trail.js';
import { staffOf } from '../../web/staff.js';
import { STAFF_ROLES, findStaffAccount, listOpenInvitations, listStaffAccounts } from '../../staff/store.js';
import {
  LastAdminError,
  resetStaffAuthenticator,
  setStaffRole,
  switchOffStaff,
  switchOnStaff,
} from '../../staff/accounts.js';
import {
  acceptInvitation,
  InvitationSpentError,
  invitationPath,
  inviteStaff,
  readInvitation,
  StaffEmailTakenError,
  withdrawStaffInvitation,
} from '../../staff/invitations.js';
import { regenerate } from '../../web/session.js';
import type { ConsoleRoute } from '../routing.js';

const inviteForm = z.object({
  displayName: z.string().trim().min(1, 'staff:errors.nameMissing').max(100, 'staff:errors.nameTooLong'),
  email: z.string().trim().min(1, 'staff:errors.emailMissing').email('staff:errors.emailInvalid'),
  role: z.enum(STAFF_ROLES, 'staff:errors.roleMissing'),
});
const roleForm = z.object({ role: z.enum(STAFF_ROLES, 'staff:errors.roleMissing') });
const acceptForm = z
  .object({
    password: z
      .string()
      .min(12, 'console:auth.errors.passwordTooShort')
      .max(256, 'console:auth.errors.passwordTooLong'),
    confirm: z.string(),
  })
  .refine((form) => form.password === form.confirm, {
    path: ['confirm'],
    message: 'staff:errors.passwordsDiffer',
  });

/** What the page says after an action; a query value outside this list says nothing. */
const DONE_NOTICES = new Set(['role', 'reset', 'off', 'on']);

/**
 * Staff management for admins (C14): invite by a one-time link, change a role, reset a lost
 * authenticator, switch an account off and on. Each action is one use case in src/staff; the route
 * table records it in the audit log. The invitation pages are the only public ones besides sign-in:
 * the link itself is the credential.
 */
export function staffRoutes(deps: Deps): ConsoleRoute[] {
  const renderList = async (
    res: Response,
    extra: {
      status?: number;
      errors?: FieldError[];
      values?: Record<string, string>;
      invited?: { link: string; expiresAt: Date; displayName: string } | null;
    } = {},
  ) => {
    const [accounts, invitations] = await Promise.all([
      listStaffAccounts(deps.db, deps.vault),
      listOpenInvitations(deps.db, deps.vault),
    ]);
    res.status(extra.status ?? (extra.errors?.length ? 400 : 200)).render('console/staff/index', {
      accounts,
      invitations,
      now: deps.clock.now(),
      roles: STAFF_ROLES,
      errors: extra.errors ?? [],
      values: extra.values ?? {},
      invited: extra.invited ?? null,
    });
  };

  const renderAccount = async (
    req: Request,
    res: Response,
    extra: { status?: number; errors?: FieldError[] } = {},
  ) => {
    const id = idOr404(req.params.id, 'staff member');
    const account = await findStaffAccount(deps.db, deps.vault, id);
    if (!account) throw new NotFoundError('There is no such staff member.');
    const done =
      typeof req.query.done === 'string' && DONE_NOTICES.has(req.query.done) ? req.query.done : null;
    res.status(extra.status ?? 200).render('console/staff/show', {
      account,
      roles: STAFF_ROLES,
      self: staffOf(res).id === account.id,
      done,
      errors: extra.errors ?? [],
    });
  };

  /** Runs an account action; the last admin's refusal re-renders the page with the reason, as 409. */
  const accountAction =
    (action: (staffId: number) => Promise<Record<string, string | number | boolean> | void>, done: string) =>
    async (req: Request, res: Response) => {
      const staffId = idOr404(req.params.id, 'staff member');
      try {
        const details = await action(staffId);
        noteAudit(res, { subjectType: 'staff', subjectId: staffId, ...(details ? { details } : {}) });
      } catch (error) {
        if (!(error instanceof LastAdminError)) throw error;
        await renderAccount(req, res, {
          status: 409,
          errors: [{ field: 'actions', messageKey: 'staff:errors.lastAdmin' }],
        });
        return;
      }
      res.redirect(303, `/console/staff/${staffId}?done=${done}`);
    };

  const renderInvitation = async (req: Request, res: Response, errors: FieldError[] = []) => {
    const token = String(req.params.token);
    const found = await readInvitation(deps, token);
    if (found.state !== 'open') {
      res.status(found.state === 'spent' ? 410 : 404).render('console/staff/invitation-spent');
      return;
    }
    res.status(errors.length ? 400 : 200).render('console/staff/accept', {
      invitation: found.invitation,
      action: invitationPath(token),
      errors,
    });
  };

  return [
    {
      method: 'get',
      path: '/console/staff',
      access: 'staff:manage',
      handler: async (_req, res) => renderList(res),
    },
    {
      method: 'post',
      path: '/console/staff/invitations',
      access: 'staff:manage',
      audit: 'staff.invite',
      handler: async (req, res) => {
        const form = parseForm(inviteForm, req.body);
        if (!form.ok) return renderList(res, { errors: form.errors, values: form.values });
        try {
          const invited = await inviteStaff(deps, { ...form.data, invitedBy: staffOf(res).id });
          noteAudit(res, {
            subjectType: 'staff_invitation',
            subjectId: invited.id,
            details: { role: invited.role },
          });
          // The link is shown once, on this answer only: only its hash is kept.
          await renderList(res, {
            invited: { link: invited.link, expiresAt: invited.expiresAt, displayName: form.data.displayName },
          });
        } catch (error) {
          if (!(error instanceof StaffEmailTakenError) && !(error instanceof ValidationError)) throw error;
          await renderList(res, {
            status: error instanceof StaffEmailTakenError ? 409 : 400,
            errors: [
              {
                field: 'email',
                messageKey:
                  error instanceof StaffEmailTakenError
                    ? 'staff:errors.emailTaken'
                    : 'staff:errors.emailInvalid',
              },
            ],
            values: { displayName: form.data.displayName, email: form.data.email, role: form.data.role },
          });
        }
      },
    },
    {
      method: 'post',
      path: '/console/staff/invitations/:id/withdraw',
      access: 'staff:manage',
      audit: 'staff.invitation_withdraw',
      handler: async (req, res) => {
        const id = idOr404(req.params.id, 'invitation');
        await withdrawStaffInvitation(deps, { id });
        noteAudit(res, { subjectType: 'staff_invitation', subjectId: id });
        res.redirect(303, '/console/staff');
      },
    },
    {
      method: 'get',
      path: '/console/staff/:id',
      access: 'staff:manage',
      handler: async (req, res) => renderAccount(req, res),
    },
    {
      method: 'post',
      path: '/console/staff/:id/role',
      access: 'staff:manage',
      audit: 'staff.set_role',
      handler: async (req, res) => {
        const form = parseForm(roleForm, req.body);
        if (!form.ok) return renderAccount(req, res, { status: 400, errors: form.errors });
        await accountAction((staffId) => setStaffRole(deps, { staffId, role: form.data.role }), 'role')(
          req,
          res,
        );
      },
    },
    {
      method: 'post',
      path: '/console/staff/:id/reset-authenticator',
      access: 'staff:manage',
      audit: 'staff.reset_authenticator',
      handler: accountAction((staffId) => resetStaffAuthenticator(deps, { staffId }), 'reset'),
    },
    {
      method: 'post',
      path: '/console/staff/:id/switch-off',
      access: 'staff:manage',
      audit: 'staff.switch_off',
      handler: accountAction((staffId) => switchOffStaff(deps, { staffId }), 'off'),
    },
    {
      method: 'post',
      path: '/console/staff/:id/switch-on',
      access: 'staff:manage',
      audit: 'staff.switch_on',
      handler: accountAction((staffId) => switchOnStaff(deps, { staffId }), 'on'),
    },
    {
      method: 'get',
      path: '/console/invitations/:token',
      access: 'public',
      handler: async (req, res) => renderInvitation(req, res),
    },
    {
      method: 'post',
      path: '/console/invitations/:token',
      access: 'public',
      handler: async (req, res) => {
        const form = parseForm(acceptForm, req.body);
        if (!form.ok) return renderInvitation(req, res, form.errors);
        let staff;
        try {
          staff = await acceptInvitation(deps, {
            token: String(req.params.token),
            password: form.data.password,
          });
        } catch (error) {
          if (error instanceof InvitationSpentError || error instanceof StaffEmailTakenError) {
            res
              .status(error instanceof InvitationSpentError ? 410 : 409)
              .render('console/staff/invitation-spent');
            return;
          }
          throw error;
        }
        // Signed in with the password just chosen; every page waits until an authenticator is enrolled.
        await regenerate(req);
        req.session.staff = {
          id: staff.id,
          role: staff.role,
          secondFactorDone: false,
          epoch: staff.sessionEpoch,
        };
        res.redirect(303, '/console/second-factor/setup');
      },
    },
  ];
}
