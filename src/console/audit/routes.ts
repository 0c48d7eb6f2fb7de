import type { Deps } from '../../deps.js';
import { listAudit } from '../../audit/store.js';
import type { ConsoleRoute } from '../routing.js';

const PAGE = 100;

/** Who did what and when, newest first: ids and states only, never personal data. */
export function auditRoutes(deps: Deps): ConsoleRoute[] {
  return [
    {
      method: 'get',
      path: '/console/audit',
      access: 'audit:read',
      handler: async (req, res) => {
        const before = Number(req.query.before);
        const action =
          typeof req.query.action === 'string' && req.query.action.trim() ? req.query.action.trim() : null;
        const records = await listAudit(deps.db, {
          limit: PAGE + 1,
          beforeId: Number.isSafeInteger(before) && before > 0 ? before : null,
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
