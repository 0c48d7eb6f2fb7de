import type { Deps } from '../../deps.js';
import { listAudit } from '../../audit/store.js';
import type { ConsoleRoute } from '../routing.js';
import { positiveId } from '../../platform/ids.js';

const PAGE = 100;

/** Who did what and when, newest first: ids and states only, never personal data. */
export function auditRoutes(deps: Deps): ConsoleRoute[] {
  return [
    {
      method: 'get',
      path: '/console/audit',
      access: 'audit:read',
      handler: async (req, res) => {
        const action =
          typeof req.query.action === 'string' && req.query.action.trim() ? req.query.action.trim() : null;
        const records = await listAudit(deps.db, {
          limit: PAGE + 1,
          beforeId: positiveId(req.query.before),
          action,
        });
        res.render('console/audit/index', {
          records: records.slice(0, PAGE),
          action,
          nextBefore: records.length > PAGE ? records[PAGE - 1]!.id : null,
        });
      },
    },
  ];
}
