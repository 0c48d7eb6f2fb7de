import express, { type RequestHandler, type Response } from 'express';
import { NotFoundError } from '../platform/errors.js';
import { poolInputSchema, redemptionSchema } from './validation.js';
import {
  CodeFileError,
  confirmRedemption,
  createPool,
  findPool,
  poolStock,
  uploadCodes,
  type CodeDeps,
} from './service.js';

export interface CodesApiOptions {
  /** The API's key check: lets the request through or answers 401/403 itself. */
  authenticate: RequestHandler;
}

function idParam(value: unknown): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('Not found');
  return id;
}

function problem(res: Response, status: number, title: string, extra: Record<string, unknown> = {}) {
  res
    .status(status)
    .type('application/problem+json')
    .json({ title, status, ...extra });
}

/**
 * The codes part of `/api/v1`: create a pool, upload codes (CSV body, streamed), read stock, and
 * mark a code redeemed (a shop's till marking a discount code used, a vendor's report).
 */
export function codesApiRouter(deps: CodeDeps, options: CodesApiOptions): express.Router {
  const router = express.Router();
  router.use('/api/v1/incidents/:incidentId/code-pools', options.authenticate);
  router.use('/api/v1/code-pools', options.authenticate);
  const json = express.json({ limit: '100kb' });

  router.post('/api/v1/incidents/:incidentId/code-pools', json, async (req, res) => {
    const parsed = poolInputSchema.safeParse(req.body);
    if (!parsed.success) {
      return problem(res, 400, 'The pool is not valid', {
        errors: parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
      });
    }
    const pool = await createPool(deps, {
      ...parsed.data,
      incidentId: idParam(req.params.incidentId),
      createdBy: null,
    });
    res.status(201).json({ pool });
  });

  router.get('/api/v1/code-pools/:poolId', async (req, res) => {
    const pool = await findPool(deps.db, idParam(req.params.poolId));
    if (!pool) throw new NotFoundError('No such pool');
    res.json({ pool, stock: await poolStock(deps.db, pool.id) });
  });

  // The body is streamed into the validator: a vendor file of a million codes is never one string.
  router.post('/api/v1/code-pools/:poolId/codes', async (req, res) => {
    if (!req.is(['text/csv', 'text/plain'])) return problem(res, 415, 'Send the codes as text/csv');
    try {
      const result = await uploadCodes(deps, {
        poolId: idParam(req.params.poolId),
        file: req,
        uploadedBy: null,
        source: 'api',
      });
      res.status(201).json(result);
    } catch (error) {
      if (!(error instanceof CodeFileError)) throw error;
      problem(res, 400, 'The file cannot be used; nothing was added', {
        file: error.file ?? null,
        problems: error.problems,
      });
    }
  });

  router.post('/api/v1/code-pools/:poolId/redemptions', json, async (req, res) => {
    const parsed = redemptionSchema.safeParse(req.body);
    if (!parsed.success) return problem(res, 400, 'Send the code as {"code": "..."}');
    const result = await confirmRedemption(deps, {
      poolId: idParam(req.params.poolId),
      code: parsed.data.code,
      via: 'api',
      staffId: null,
    });
    res.status(200).json(result);
  });

  return router;
}
