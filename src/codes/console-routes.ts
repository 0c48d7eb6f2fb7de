import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { findIncidentById, listPublishedIncidents } from '../incidents/store.js';
import { formProtection } from '../web/session.js';
import { parseForm, type FieldError } from '../web/forms.js';
import { ELIGIBILITIES, OFFER_MODES, POOL_KINDS } from './rules.js';
import { poolFormSchema, redemptionSchema } from './validation.js';
import {
  CodeFileError,
  confirmRedemption,
  createCodeCampaign,
  createPool,
  findPool,
  listPools,
  listStockWarnings,
  poolStock,
  uploadCodes,
  type CodeDeps,
} from './service.js';

type ConsoleDeps = CodeDeps & Pick<Deps, 'redis'>;

/** Who may do what with codes. Mirrors the console's permission table; `codes:*` are ours. */
export const CODE_PERMISSIONS = {
  'codes:read': ['admin', 'editor', 'approver', 'agent', 'viewer'],
  'codes:manage': ['admin', 'editor'],
  'codes:redeem': ['admin', 'editor', 'agent'],
} as const;
export type CodePermission = keyof typeof CODE_PERMISSIONS;

/**
 * Lets through a signed-in staff member whose role has the permission. Stands in for the console's
 * own guard until it lands; the check is the same: a session from sign-in, second factor done.
 */
export function requireStaff(permission: CodePermission): RequestHandler {
  return (req, _res, next) => {
    const staff = req.session.staff;
    const allowed: readonly string[] = CODE_PERMISSIONS[permission];
    if (!staff || !staff.secondFactorDone || !allowed.includes(staff.role)) {
      throw new ForbiddenError('Sign in to the staff console with an account that may manage codes.');
    }
    next();
  };
}

function poolIdParam(value: unknown): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('no such pool');
  return id;
}

const campaignFormSchema = z.object({
  purpose: z.enum(['offer', 'reminder'], 'codes:errors.purposeMissing'),
  daysBefore: z
    .string()
    .default('')
    .transform((value) => (value.trim() === '' ? undefined : Number(value)))
    .refine(
      (value) => value === undefined || (Number.isInteger(value) && value >= 1 && value <= 365),
      'codes:errors.daysBeforeInvalid',
    ),
});

/** The staff console's code pages: pools and their stock, creating a pool, uploading codes, redemption. */
export function consoleCodesRouter(deps: ConsoleDeps): express.Router {
  const router = express.Router();
  // A vendor's file pasted in a form is larger than an ordinary form: parsed here before the shared
  // parser (which then leaves the parsed body alone).
  router.use('/console/codes/:poolId/upload', express.urlencoded({ extended: false, limit: '20mb' }));
  router.use('/console/codes', formProtection(deps));

  async function renderPool(
    res: express.Response,
    poolId: number,
    status: number,
    extra: {
      uploadErrors?: FieldError[];
      fileProblem?: CodeFileError;
      redeemErrors?: FieldError[];
      campaignErrors?: FieldError[];
      notice?: string | null;
    } = {},
  ) {
    const pool = await findPool(deps.db, poolId);
    if (!pool) throw new NotFoundError('no such pool');
    const incident = await findIncidentById(deps.db, pool.incidentId);
    res.status(status).render('codes/console-pool', {
      pool,
      incident,
      stock: await poolStock(deps.db, pool.id),
      warnings: (await listStockWarnings(deps.db)).filter((w) => w.poolId === pool.id),
      uploadErrors: extra.uploadErrors ?? [],
      fileProblem: extra.fileProblem ?? null,
      redeemErrors: extra.redeemErrors ?? [],
      campaignErrors: extra.campaignErrors ?? [],
      notice: extra.notice ?? null,
    });
  }

  router.get('/console/codes', requireStaff('codes:read'), async (_req, res) => {
    const pools = await listPools(deps.db);
    const stocks = await Promise.all(pools.map((pool) => poolStock(deps.db, pool.id)));
    res.render('codes/console-index', {
      pools: pools.map((pool, i) => ({ pool, stock: stocks[i]! })),
      warnings: await listStockWarnings(deps.db),
      incidents: await listPublishedIncidents(deps.db),
    });
  });

  router.get('/console/codes/new', requireStaff('codes:manage'), async (req, res) => {
    const incident = await findIncidentById(deps.db, Number(req.query.incident));
    if (!incident) throw new NotFoundError('no such incident');
    res.render('codes/console-new', newPoolView(incident, {}, []));
  });

  router.post('/console/codes', requireStaff('codes:manage'), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const incident = await findIncidentById(deps.db, Number(body.incidentId));
    if (!incident) throw new NotFoundError('no such incident');
    const form = parseForm(poolFormSchema, req.body);
    if (!form.ok) {
      res.status(400).render('codes/console-new', newPoolView(incident, form.values, form.errors));
      return;
    }
    const pool = await createPool(deps, {
      ...form.data,
      incidentId: incident.id,
      createdBy: req.session.staff!.id,
    });
    res.redirect(303, `/console/codes/${pool.id}`);
  });

  router.get('/console/codes/:poolId', requireStaff('codes:read'), async (req, res) => {
    const notice = typeof req.query.notice === 'string' ? req.query.notice : null;
    await renderPool(res, poolIdParam(req.params.poolId), 200, { notice });
  });

  router.post('/console/codes/:poolId/upload', requireStaff('codes:manage'), async (req, res) => {
    const poolId = poolIdParam(req.params.poolId);
    const file = (req.body as Record<string, unknown>).codes;
    if (typeof file !== 'string' || file.trim() === '') {
      await renderPool(res, poolId, 400, {
        uploadErrors: [{ field: 'codes', messageKey: 'codes:errors.fileMissing' }],
      });
      return;
    }
    try {
      const result = await uploadCodes(deps, {
        poolId,
        file,
        uploadedBy: req.session.staff!.id,
        source: 'console',
      });
      res.redirect(303, `/console/codes/${poolId}?notice=uploaded-${result.added}`);
    } catch (error) {
      if (!(error instanceof CodeFileError)) throw error;
      await renderPool(res, poolId, 400, {
        uploadErrors: [{ field: 'codes', messageKey: 'codes:errors.fileHasProblems' }],
        fileProblem: error,
      });
    }
  });

  router.post('/console/codes/:poolId/redemptions', requireStaff('codes:redeem'), async (req, res) => {
    const poolId = poolIdParam(req.params.poolId);
    const form = parseForm(redemptionSchema, req.body);
    if (!form.ok) return renderPool(res, poolId, 400, { redeemErrors: form.errors });
    try {
      const result = await confirmRedemption(deps, {
        poolId,
        code: form.data.code,
        via: 'staff',
        staffId: req.session.staff!.id,
      });
      res.redirect(303, `/console/codes/${poolId}?notice=${result.outcome}`);
    } catch (error) {
      if (!(error instanceof NotFoundError) || (await findPool(deps.db, poolId)) === null) throw error;
      await renderPool(res, poolId, 400, {
        redeemErrors: [{ field: 'code', messageKey: 'codes:errors.codeUnknown' }],
      });
    }
  });

  router.post('/console/codes/:poolId/campaigns', requireStaff('codes:manage'), async (req, res) => {
    const poolId = poolIdParam(req.params.poolId);
    const form = parseForm(campaignFormSchema, req.body);
    if (!form.ok) return renderPool(res, poolId, 400, { campaignErrors: form.errors });
    try {
      const campaign = await createCodeCampaign(deps, {
        poolId,
        purpose: form.data.purpose,
        ...(form.data.daysBefore === undefined ? {} : { daysBefore: form.data.daysBefore }),
        createdBy: req.session.staff!.id,
      });
      res.redirect(303, `/console/codes/${poolId}?notice=campaign-${campaign.id}`);
    } catch (error) {
      // No enroll-by date, or it has passed, or no number of days: said beside the form, not as an error page.
      if (!(error instanceof ConflictError || error instanceof ValidationError)) throw error;
      const field = error instanceof ValidationError ? 'daysBefore' : 'purpose';
      const messageKey =
        error instanceof ValidationError
          ? 'codes:errors.daysBeforeInvalid'
          : 'codes:errors.reminderNotPossible';
      await renderPool(res, poolId, 400, { campaignErrors: [{ field, messageKey }] });
    }
  });

  return router;
}

function newPoolView(
  incident: { id: number; organisationName: string; dataTypes: string[] },
  values: Record<string, string>,
  errors: FieldError[],
) {
  return {
    incident,
    values,
    errors,
    kinds: POOL_KINDS,
    eligibilities: ELIGIBILITIES,
    offerModes: OFFER_MODES,
    locales: SUPPORTED_LOCALES,
  };
}
