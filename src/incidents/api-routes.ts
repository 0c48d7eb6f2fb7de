import type { Deps } from '../deps.js';
import type { ApiRoute } from '../api/routing.js';
import type { NewIncidentBody, NewUpdateBody } from '../api/schemas.js';
import { noteAudit } from '../web/audit-trail.js';
import { staffOf } from '../web/staff.js';
import { publishIncidentUpdate } from '../campaigns/service.js';
import { findIncidentById, listIncidents, listIncidentUpdates, type Incident } from './store.js';
import { createIncident, loadIncident, publishIncidentPage } from './service.js';

export const incidentJson = (incident: Incident) => ({
  id: incident.id,
  slug: incident.slug,
  organisationName: incident.organisationName,
  state: incident.state,
  defaultLocale: incident.defaultLocale,
  dataTypes: incident.dataTypes,
  texts: incident.texts,
  discoveredAt: incident.discoveredAt,
  publishedAt: incident.publishedAt,
  updatedAt: incident.updatedAt,
});

/** The incidents part of `/api/v1`: the same use cases as the console's incident pages. */
export function incidentApiRoutes(deps: Deps): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/incidents',
      operationId: 'listIncidents',
      summary: 'List incidents',
      access: 'incidents:read',
      responses: { 200: 'IncidentList' },
      handler: async (_req, res) => {
        res.json({ items: (await listIncidents(deps.db)).map(incidentJson) });
      },
    },
    {
      method: 'post',
      path: '/incidents',
      operationId: 'createIncident',
      summary: 'Create an incident (not yet public)',
      access: 'incidents:write',
      audit: 'incident.create',
      body: { schema: 'NewIncident' },
      responses: { 201: 'Incident' },
      handler: async (req, res) => {
        const body = req.body as NewIncidentBody;
        const incident = await createIncident(deps, {
          ...body,
          discoveredAt: body.discoveredAt ? new Date(body.discoveredAt) : null,
        });
        noteAudit(res, { subjectType: 'incident', subjectId: incident.id });
        res.status(201).json(incidentJson(incident));
      },
    },
    {
      method: 'get',
      path: '/incidents/:id',
      operationId: 'getIncident',
      summary: 'One incident',
      access: 'incidents:read',
      responses: { 200: 'Incident' },
      handler: async (req, res) => {
        res.json(incidentJson(await loadIncident(deps, req.params.id)));
      },
    },
    {
      method: 'post',
      path: '/incidents/:id/publish',
      operationId: 'publishIncident',
      summary: "Publish the incident's status page",
      access: 'incidents:write',
      audit: 'incident.publish',
      responses: { 200: 'Incident' },
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        await publishIncidentPage(deps, incident.id);
        noteAudit(res, { subjectType: 'incident' });
        res.json(incidentJson((await findIncidentById(deps.db, incident.id))!));
      },
    },
    {
      method: 'get',
      path: '/incidents/:id/updates',
      operationId: 'listUpdates',
      summary: "The incident's dated updates, newest first",
      access: 'incidents:read',
      responses: { 200: 'UpdateList' },
      handler: async (req, res) => {
        res.json({ items: await listIncidentUpdates(deps.db, (await loadIncident(deps, req.params.id)).id) });
      },
    },
    {
      method: 'post',
      path: '/incidents/:id/updates',
      operationId: 'postUpdate',
      summary: 'Post a dated update on the status page',
      access: 'incidents:write',
      audit: 'incident.update_post',
      body: { schema: 'NewUpdate' },
      responses: { 201: 'Update' },
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const body = req.body as NewUpdateBody;
        const { update, campaign } = await publishIncidentUpdate(deps, {
          incidentId: incident.id,
          texts: body.texts,
          notify: body.notify ?? 'nobody',
          createdBy: staffOf(res).id,
        });
        noteAudit(res, {
          subjectType: 'incident',
          subjectId: incident.id,
          details: { updateId: update.id, notify: campaign !== null },
        });
        res.status(201).json({ ...update, campaignId: campaign?.id ?? null });
      },
    },
  ];
}
