import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ValidationError } from '../../platform/errors.js';
import { listStaff } from '../../staff/store.js';
import {
  CHECKLIST_STATUSES,
  CHECKLIST_STEPS,
  countdown,
  dueTimeOf,
  regulatorDeadlines,
} from '../../checklist/deadlines.js';
import { listChecklist, saveChecklistItem } from '../../checklist/store.js';
import { type ConsoleRoute } from '../routing.js';
import { noteAudit } from '../../web/audit-trail.js';
import { loadIncident } from '../../incidents/service.js';
import { countPeopleByCountry } from '../incidents/store.js';
import { positiveId } from '../../platform/ids.js';

const itemForm = z.object({
  step: z.enum(CHECKLIST_STEPS),
  status: z.enum(CHECKLIST_STATUSES),
  owner: z.string().optional(),
  dueAt: z.string().optional(),
  note: z.string().max(2000).optional(),
});

function parseDue(value: string | undefined): Date | null {
  if (!value?.trim()) return null;
  const date = new Date(value.length === 16 ? `${value}:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new ValidationError('The due time is not a date.');
  return date;
}

/** The response checklist: each step with an owner, a due time and a status, beside the regulator deadlines. */
export function checklistRoutes(deps: Deps): ConsoleRoute[] {
  return [
    {
      method: 'get',
      path: '/console/incidents/:id/checklist',
      access: 'incidents:read',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const now = deps.clock.now();
        const [items, staff, countries] = await Promise.all([
          listChecklist(deps.db, incident.id),
          listStaff(deps.db),
          countPeopleByCountry(deps.db, incident.id),
        ]);
        const regulators = incident.discoveredAt
          ? regulatorDeadlines({
              discoveredAt: incident.discoveredAt,
              now,
              peopleByCountry: countries,
              configuredHours: deps.config.regulatorDeadlineHours,
            })
          : { deadlines: [], unregulated: [] };
        const byStep = new Map(items.map((item) => [item.step, item]));
        res.render('console/checklist/index', {
          incident,
          staffList: staff,
          statuses: CHECKLIST_STATUSES,
          deadlines: regulators.deadlines.map((deadline) => ({
            ...deadline,
            countdown: countdown(deadline.remainingMs),
          })),
          unregulated: regulators.unregulated,
          steps: CHECKLIST_STEPS.map((step) => {
            const item = byStep.get(step);
            const due = dueTimeOf(step, item?.dueAt ?? null, regulators.deadlines);
            return {
              step,
              item: item ?? null,
              due,
              countdown: due && item?.status !== 'done' ? countdown(due.getTime() - now.getTime()) : null,
            };
          }),
        });
      },
    },
    {
      method: 'post',
      path: '/console/incidents/:id/checklist',
      access: 'checklist:write',
      audit: 'checklist.update',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const form = itemForm.safeParse(req.body);
        if (!form.success) throw new ValidationError('Choose a step and a status.');
        await saveChecklistItem(
          deps.db,
          {
            incidentId: incident.id,
            step: form.data.step,
            status: form.data.status,
            ownerStaffId: positiveId(form.data.owner),
            dueAt: parseDue(form.data.dueAt),
            note: form.data.note?.trim() || null,
          },
          deps.clock.now(),
        );
        noteAudit(res, {
          subjectType: 'incident',
          subjectId: incident.id,
          details: { step: form.data.step, status: form.data.status },
        });
        res.redirect(303, `/console/incidents/${incident.id}/checklist#step-${form.data.step}`);
      },
    },
  ];
}
