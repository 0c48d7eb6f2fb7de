import type { Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ForbiddenError, NotFoundError } from '../../platform/errors.js';
import { parseForm, type FieldError } from '../../web/forms.js';
import { STAFF_ROLES, listStaff } from '../../staff/store.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../api/keys.js';
import { type ConsoleRoute } from '../routing.js';
import { noteAudit } from '../../web/audit-trail.js';
import { idOr404 } from '../../platform/ids.js';

const newKeyForm = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'console:apiKeys.errors.nameMissing')
    .max(100, 'console:apiKeys.errors.nameMissing'),
  staffId: z.coerce.number().int().positive('console:apiKeys.errors.staffMissing'),
  role: z.enum(STAFF_ROLES, 'console:apiKeys.errors.roleMissing'),
});

/** Admins make and revoke API keys; each key acts as one staff member, with their role or a lower one. */
export function apiKeyRoutes(deps: Deps): ConsoleRoute[] {
  const render = async (
    res: Response,
    extra: { errors?: FieldError[]; values?: Record<string, string>; newToken?: string | null } = {},
  ) => {
    const [keys, staff] = await Promise.all([listApiKeys(deps.db), listStaff(deps.db)]);
    res.status(extra.errors?.length ? 400 : 200).render('console/api-keys/index', {
      keys,
      staff,
      roles: STAFF_ROLES,
      errors: extra.errors ?? [],
      values: extra.values ?? {},
      newToken: extra.newToken ?? null,
    });
  };
  return [
    {
      method: 'get',
      path: '/console/api-keys',
      access: 'staff:manage',
      handler: async (_req, res) => render(res),
    },
    {
      method: 'post',
      path: '/console/api-keys',
      access: 'staff:manage',
      audit: 'api_key.create',
      handler: async (req, res) => {
        const form = parseForm(newKeyForm, req.body);
        if (!form.ok) return render(res, { errors: form.errors, values: form.values });
        try {
          const { key, token } = await createApiKey(deps, {
            staffId: form.data.staffId,
            name: form.data.name,
            role: form.data.role,
          });
          noteAudit(res, { subjectType: 'api_key', subjectId: key.id });
          // Shown once, on this answer only: never in a URL, a session or a log.
          await render(res, { newToken: token });
        } catch (error) {
          if (!(error instanceof ForbiddenError) && !(error instanceof NotFoundError)) throw error;
          await render(res, {
            errors: [{ field: 'role', messageKey: 'console:apiKeys.errors.roleTooHigh' }],
            values: { name: form.data.name, staffId: String(form.data.staffId), role: form.data.role },
          });
        }
      },
    },
    {
      method: 'post',
      path: '/console/api-keys/:id/revoke',
      access: 'staff:manage',
      audit: 'api_key.revoke',
      handler: async (req, res) => {
        const id = idOr404(req.params.id, 'API key');
        await revokeApiKey(deps, { id });
        noteAudit(res, { subjectType: 'api_key', subjectId: id });
        res.redirect(303, '/console/api-keys');
      },
    },
  ];
}
