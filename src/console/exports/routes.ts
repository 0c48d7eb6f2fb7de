import type { Deps } from '../../deps.js';
import { recordAudit } from '../../audit/store.js';
import { csvLine } from '../../exports/csv.js';
import { proofOfNoticeCsv, regulatorSummary } from '../../exports/proof-of-notice.js';
import type { ConsoleRoute } from '../routing.js';
import { loadIncident } from '../../incidents/service.js';
import { staffOf } from '../../web/staff.js';
import { can } from '../../staff/permissions.js';

/** Proof of notice and the regulator summary: contact details only with `people:contacts`, every download audited. */
export function exportRoutes(deps: Deps): ConsoleRoute[] {
  return [
    {
      method: 'get',
      path: '/console/incidents/:id/exports',
      access: 'exports:read',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        res.render('console/exports/index', {
          incident,
          summary: await regulatorSummary(deps.db, incident.id),
          withContacts: can(staffOf(res).role, 'people:contacts'),
        });
      },
    },
    {
      method: 'get',
      path: '/console/incidents/:id/exports/proof-of-notice.csv',
      access: 'exports:read',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const withContacts = can(staffOf(res).role, 'people:contacts');
        await recordAudit(
          deps.db,
          { staffId: staffOf(res).id, apiKeyId: null },
          {
            action: 'export.proof_of_notice',
            subjectType: 'incident',
            subjectId: incident.id,
            details: { withContacts },
          },
          deps.clock.now(),
        );
        res.set('Content-Type', 'text/csv; charset=utf-8');
        res.set('Content-Disposition', `attachment; filename="${incident.slug}-proof-of-notice.csv"`);
        for await (const chunk of proofOfNoticeCsv(deps.db, deps.vault, incident.id, { withContacts })) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        }
        res.end();
      },
    },
    {
      method: 'get',
      path: '/console/incidents/:id/exports/regulator-summary.csv',
      access: 'exports:read',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        await recordAudit(
          deps.db,
          { staffId: staffOf(res).id, apiKeyId: null },
          { action: 'export.regulator_summary', subjectType: 'incident', subjectId: incident.id },
          deps.clock.now(),
        );
        res.set('Content-Type', 'text/csv; charset=utf-8');
        res.set('Content-Disposition', `attachment; filename="${incident.slug}-regulator-summary.csv"`);
        res.write(csvLine(['country', 'channel', 'status', 'people']));
        for (const row of await regulatorSummary(deps.db, incident.id))
          res.write(csvLine([row.country, row.channel, row.status, row.people]));
        res.end();
      },
    },
  ];
}
