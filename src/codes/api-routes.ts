import type { ApiRoute } from '../api/routing.js';
import { problem } from '../api/routing.js';
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
import type { Deps } from '../deps.js';
import { idOr404 } from '../platform/ids.js';
import { staffOf } from '../web/staff.js';

/**
 * The codes part of `/api/v1`, as rows of the API's one route table (so documented, validated,
 * audited and permission-checked like every other endpoint): create a pool, upload codes (CSV body,
 * streamed), read stock, and mark a code redeemed (a shop's till, a vendor's report).
 */
export function codeApiRoutes(deps: CodeDeps & Pick<Deps, 'i18n'>): ApiRoute[] {
  const english = deps.i18n.getFixedT('en');
  return [
    {
      method: 'post',
      path: '/incidents/:incidentId/code-pools',
      operationId: 'createCodePool',
      summary: 'Create a pool of credit-monitoring or goodwill codes for an incident',
      access: 'codes:manage',
      audit: 'code_pool.create',
      body: { schema: 'NewCodePool' },
      responses: { 201: 'CodePoolCreated' },
      handler: async (req, res) => {
        // The same rules as the console form (the shape was checked against the schema already).
        const parsed = poolInputSchema.safeParse(req.body);
        if (!parsed.success) {
          problem(res, 400, 'The pool is not valid', {
            errors: parsed.error.issues.map((issue) => ({
              path: `/${issue.path.join('/')}`,
              message: english(issue.message),
            })),
          });
          return;
        }
        const pool = await createPool(deps, {
          ...parsed.data,
          incidentId: idOr404(req.params.incidentId, 'incident'),
          createdBy: staffOf(res).id,
        });
        res.status(201).json({ pool });
      },
    },
    {
      method: 'get',
      path: '/code-pools/:poolId',
      operationId: 'getCodePool',
      summary: 'A code pool and its stock',
      access: 'codes:manage',
      responses: { 200: 'CodePoolWithStock' },
      handler: async (req, res) => {
        const pool = await findPool(deps.db, idOr404(req.params.poolId, 'pool'));
        if (!pool) throw new NotFoundError('There is no such pool.');
        res.json({ pool, stock: await poolStock(deps.db, pool.id) });
      },
    },
    {
      method: 'post',
      path: '/code-pools/:poolId/codes',
      operationId: 'uploadCodes',
      summary: "Add a vendor's codes to a pool (a text/csv body with a `code` column; all or nothing)",
      access: 'codes:manage',
      audit: 'code_pool.upload',
      body: { csv: 'A header row with a `code` column, then one code a line.' },
      responses: { 201: 'CodeUpload' },
      handler: async (req, res) => {
        // The body is streamed into the validator: a vendor file of a million codes is never one string.
        try {
          const result = await uploadCodes(deps, {
            poolId: idOr404(req.params.poolId, 'pool'),
            file: req,
            uploadedBy: staffOf(res).id,
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
      },
    },
    {
      method: 'post',
      path: '/code-pools/:poolId/redemptions',
      operationId: 'redeemCode',
      summary: 'Mark a code given to someone as redeemed (saying it twice changes nothing)',
      access: 'codes:redeem',
      audit: 'code.redeem',
      body: { schema: 'Redemption' },
      responses: { 200: 'RedemptionResult' },
      handler: async (req, res) => {
        const { code } = redemptionSchema.parse(req.body);
        res.json(
          await confirmRedemption(deps, {
            poolId: idOr404(req.params.poolId, 'pool'),
            code,
            via: 'api',
            staffId: staffOf(res).id,
          }),
        );
      },
    },
  ];
}
