import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { findIncidentById, listPublishedIncidents } from '../incidents/store.js';
import { parseForm, type FieldError } from '../web/forms.js';
import { type ConsoleRoute } from '../console/routing.js';
import { noteAudit } from '../web/audit-trail.js';
import { readUpload } from '../console/imports/upload.js';
import { ELIGIBILITIES, OFFER_MODES, POOL_KINDS } from './rules.js';
import { poolFormSchema, redemptionSchema } from './validation.js';
import { idOr404 } from '../platform/ids.js';
import { staffOf } from '../web/staff.js';
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
} from './service.js';

/**
 * Every console page carries the pools whose stock alert stands, for the banner at the top: the
 * warning stays in front of staff until someone uploads more codes.
 */
export function codeStockBanner(deps: Pick<Deps, 'db'>): RequestHandler {
  return async (_req, res, next) => {
    res.locals.codeStockWarnings = await listStockWarnings(deps.db);
    next();
  };
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

interface PoolPageExtras {
  uploadErrors?: FieldError[];
  fileProblem?: CodeFileError;
  redeemErrors?: FieldError[];
  campaignErrors?: FieldError[];
  notice?: string | null;
}

/**
 * The staff console's code pages, as rows of the console's route table: the table puts the session,
 * CSRF, the permission check and the audit record in front of each, and the authorization tests are
 * generated from it. Reading stock is for the whole team; changing pools is for editors.
 */
export function codeConsoleRoutes(deps: Deps): ConsoleRoute[] {
  async function renderPool(res: Response, poolId: number, status: number, extra: PoolPageExtras = {}) {
    const pool = await findPool(deps.db, poolId);
    if (!pool) throw new NotFoundError('no such pool');
    res.status(status).render('codes/console-pool', {
      pool,
      incident: await findIncidentById(deps.db, pool.incidentId),
      stock: await poolStock(deps.db, pool.id),
      uploadErrors: extra.uploadErrors ?? [],
      fileProblem: extra.fileProblem ?? null,
      redeemErrors: extra.redeemErrors ?? [],
      campaignErrors: extra.campaignErrors ?? [],
      notice: extra.notice ?? null,
    });
  }

  return [
    {
      method: 'get',
      path: '/console/codes',
      access: 'incidents:read',
      handler: async (_req, res) => {
        const pools = await listPools(deps.db);
        const stocks = await Promise.all(pools.map((pool) => poolStock(deps.db, pool.id)));
        res.render('codes/console-index', {
          pools: pools.map((pool, i) => ({ pool, stock: stocks[i]! })),
          incidents: await listPublishedIncidents(deps.db),
        });
      },
    },
    {
      method: 'get',
      path: '/console/codes/new',
      access: 'codes:manage',
      handler: async (req, res) => {
        const incident = await findIncidentById(deps.db, Number(req.query.incident));
        if (!incident) throw new NotFoundError('no such incident');
        res.render('codes/console-new', newPoolView(incident, {}, []));
      },
    },
    {
      method: 'post',
      path: '/console/codes',
      access: 'codes:manage',
      audit: 'codes.pool.create',
      handler: async (req, res) => {
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
          createdBy: staffOf(res).id,
        });
        noteAudit(res, {
          subjectType: 'code_pool',
          subjectId: pool.id,
          details: { incidentId: incident.id },
        });
        res.redirect(303, `/console/codes/${pool.id}`);
      },
    },
    {
      method: 'get',
      path: '/console/codes/:id',
      access: 'incidents:read',
      handler: async (req, res) => {
        const notice = typeof req.query.notice === 'string' ? req.query.notice : null;
        await renderPool(res, idOr404(req.params.id, 'pool'), 200, { notice });
      },
    },
    {
      method: 'post',
      path: '/console/codes/:id/upload',
      access: 'codes:manage',
      // The vendor's file is streamed into the validator, never held whole: a pool may hold millions.
      body: 'multipart',
      audit: 'codes.upload',
      handler: async (req, res) => {
        const poolId = idOr404(req.params.id, 'pool');
        if (!(await findPool(deps.db, poolId))) throw new NotFoundError('no such pool');
        try {
          const result = await readUpload(req, (file) =>
            uploadCodes(deps, { poolId, file, uploadedBy: staffOf(res).id, source: 'console' }),
          );
          noteAudit(res, { subjectType: 'code_pool', subjectId: poolId, details: { added: result.added } });
          res.redirect(303, `/console/codes/${poolId}?notice=uploaded-${result.added}`);
        } catch (error) {
          if (error instanceof CodeFileError) {
            await renderPool(res, poolId, 400, {
              uploadErrors: [{ field: 'codes', messageKey: 'codes:errors.fileHasProblems' }],
              fileProblem: error,
            });
            return;
          }
          if (!(error instanceof ValidationError)) throw error;
          await renderPool(res, poolId, 400, {
            uploadErrors: [{ field: 'codes', messageKey: 'codes:errors.fileMissing' }],
          });
        }
      },
    },
    {
      method: 'post',
      path: '/console/codes/:id/redemptions',
      access: 'codes:redeem',
      audit: 'codes.redeem',
      handler: async (req, res) => {
        const poolId = idOr404(req.params.id, 'pool');
        const form = parseForm(redemptionSchema, req.body);
        if (!form.ok) return renderPool(res, poolId, 400, { redeemErrors: form.errors });
        try {
          const result = await confirmRedemption(deps, {
            poolId,
            code: form.data.code,
            via: 'staff',
            staffId: staffOf(res).id,
          });
          noteAudit(res, {
            subjectType: 'code',
            subjectId: result.codeId,
            details: { outcome: result.outcome },
          });
          res.redirect(303, `/console/codes/${poolId}?notice=${result.outcome}`);
        } catch (error) {
          if (!(error instanceof NotFoundError) || (await findPool(deps.db, poolId)) === null) throw error;
          await renderPool(res, poolId, 400, {
            redeemErrors: [{ field: 'code', messageKey: 'codes:errors.codeUnknown' }],
          });
        }
      },
    },
    {
      method: 'post',
      path: '/console/codes/:id/campaigns',
      access: 'campaigns:write',
      audit: 'codes.campaign.create',
      handler: async (req, res) => {
        const poolId = idOr404(req.params.id, 'pool');
        const form = parseForm(campaignFormSchema, req.body);
        if (!form.ok) return renderPool(res, poolId, 400, { campaignErrors: form.errors });
        try {
          const campaign = await createCodeCampaign(deps, {
            poolId,
            purpose: form.data.purpose,
            ...(form.data.daysBefore === undefined ? {} : { daysBefore: form.data.daysBefore }),
            createdBy: staffOf(res).id,
          });
          noteAudit(res, {
            subjectType: 'campaign',
            subjectId: campaign.id,
            details: { poolId, purpose: form.data.purpose },
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
      },
    },
  ];
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
