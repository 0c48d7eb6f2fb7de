import type { Request, Response } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError, ValidationError } from '../platform/errors.js';
import { findIncidentById, listIncidentUpdates, type Incident } from '../incidents/store.js';
import { createIncident, loadIncident, publishIncidentPage } from '../incidents/service.js';
import { findCampaign, type Campaign } from '../campaigns/store.js';
import {
  approveAndStart,
  createCampaign,
  loadCampaign,
  rejectCampaign,
  submitCampaign,
  campaignDashboard,
  campaignSummaries,
  cancelCampaign,
  pauseCampaign,
  planCampaign,
  publishIncidentUpdate,
  resumeCampaign,
} from '../campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../campaigns/channel-policy.js';
import { commitImport, csvRecords, discardImport, objectRecords, runImport } from '../imports/run.js';
import { findImport, listImportErrors, type ImportRecord } from '../imports/store.js';
import { findDeliveriesByReference } from '../deliveries/search.js';
import { noteAudit } from '../console/routing.js';
import type { ApiRoute } from './routing.js';
import type {
  NewCampaignBody,
  NewIncidentBody,
  NewPeopleBody,
  NewUpdateBody,
  ReviewBody,
} from './schemas.js';

const SHOWN_IMPORT_ERRORS = 200;

function idOf(req: Request, what: string): number {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError(`There is no such ${what}.`);
  return id;
}

const incidentOf = (deps: Deps, req: Request) => loadIncident(deps, req.params.id);

const campaignOf = (deps: Deps, req: Request) => loadCampaign(deps, req.params.id);

async function importOf(deps: Deps, req: Request): Promise<ImportRecord> {
  const record = await findImport(deps.db, idOf(req, 'import'));
  if (!record) throw new NotFoundError('There is no such import.');
  return record;
}

const incidentJson = (incident: Incident) => ({
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

const campaignJson = (campaign: Campaign) => ({
  id: campaign.id,
  incidentId: campaign.incidentId,
  kind: campaign.kind,
  audience: campaign.audience,
  channels: campaign.channelPolicy.order,
  status: campaign.status,
  createdBy: campaign.createdBy,
  approvedBy: campaign.approvedBy,
  /** Sending waits until then (code reminders); null sends once approved. */
  scheduledFor: campaign.scheduledFor,
  createdAt: campaign.createdAt,
});

async function importJson(deps: Deps, record: ImportRecord) {
  return {
    id: record.id,
    incidentId: record.incidentId,
    status: record.status,
    rowsProcessed: record.rowsProcessed,
    rowsValid: record.rowsValid,
    rowsInvalid: record.rowsInvalid,
    peopleCreated: record.peopleCreated,
    peopleMerged: record.peopleMerged,
    failure: record.failure,
    errors: await listImportErrors(deps.db, record.id, SHOWN_IMPORT_ERRORS),
  };
}

const staffId = (res: Response) => res.locals.staff!.id;

/** Every endpoint of /api/v1: thin, each calls the same use cases as the console. */
export function apiRoutes(deps: Deps): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/incidents',
      operationId: 'listIncidents',
      summary: 'List incidents',
      access: 'incidents:read',
      responses: { 200: 'IncidentList' },
      handler: async (_req, res) => {
        const { rows } = await deps.db.query<{ id: number }>('SELECT id FROM incidents ORDER BY id DESC');
        const incidents = await Promise.all(rows.map((row) => findIncidentById(deps.db, row.id)));
        res.json({ items: incidents.filter((i): i is Incident => i !== null).map(incidentJson) });
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
        res.json(incidentJson(await incidentOf(deps, req)));
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
        const incident = await incidentOf(deps, req);
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
        res.json({ items: await listIncidentUpdates(deps.db, (await incidentOf(deps, req)).id) });
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
        const incident = await incidentOf(deps, req);
        const body = req.body as NewUpdateBody;
        const { update, campaign } = await publishIncidentUpdate(deps, {
          incidentId: incident.id,
          texts: body.texts,
          notify: body.notify ?? 'nobody',
          createdBy: staffId(res),
        });
        noteAudit(res, {
          subjectType: 'incident',
          subjectId: incident.id,
          details: { updateId: update.id, notify: campaign !== null },
        });
        res.status(201).json({ ...update, campaignId: campaign?.id ?? null });
      },
    },
    {
      method: 'post',
      path: '/incidents/:id/people',
      operationId: 'importPeople',
      summary: 'Import affected people, as JSON or as CSV (all or nothing unless acceptValidRows)',
      access: 'people:import',
      audit: 'import.upload',
      body: { schema: 'NewPeople', csv: 'The same columns as a console import.' },
      query: [
        {
          name: 'acceptValidRows',
          required: false,
          description: 'For CSV: `yes` imports the valid rows even if some are wrong.',
          schema: { type: 'string' },
        },
      ],
      responses: { 201: 'Import' },
      handler: async (req, res) => {
        const incident = await incidentOf(deps, req);
        const csv = typeof req.is('text/csv') === 'string';
        const body = csv ? null : (req.body as NewPeopleBody);
        const record = await runImport(deps, {
          incidentId: incident.id,
          createdBy: staffId(res),
          filename: csv ? 'api.csv' : 'api.json',
          records: body ? objectRecords(body.people) : csvRecords(req),
          acceptValidRows: body ? body.acceptValidRows === true : req.query.acceptValidRows === 'yes',
        });
        noteAudit(res, {
          subjectType: 'import',
          subjectId: record.id,
          details: {
            incidentId: incident.id,
            status: record.status,
            valid: record.rowsValid,
            invalid: record.rowsInvalid,
          },
        });
        res.status(201).json(await importJson(deps, record));
      },
    },
    {
      method: 'get',
      path: '/imports/:id',
      operationId: 'getImport',
      summary: 'An import and its problems by line',
      access: 'people:import',
      responses: { 200: 'Import' },
      handler: async (req, res) => {
        res.json(await importJson(deps, await importOf(deps, req)));
      },
    },
    {
      method: 'post',
      path: '/imports/:id/accept',
      operationId: 'acceptImport',
      summary: 'Import the valid rows of an import that had problems',
      access: 'people:import',
      audit: 'import.accept_valid_rows',
      responses: { 200: 'Import' },
      handler: async (req, res) => {
        const record = await commitImport(deps, (await importOf(deps, req)).id);
        noteAudit(res, {
          subjectType: 'import',
          details: { created: record.peopleCreated, merged: record.peopleMerged },
        });
        res.json(await importJson(deps, record));
      },
    },
    {
      method: 'post',
      path: '/imports/:id/discard',
      operationId: 'discardImport',
      summary: 'Throw an import with problems away',
      access: 'people:import',
      audit: 'import.discard',
      responses: { 200: 'Import' },
      handler: async (req, res) => {
        const record = await discardImport(deps, (await importOf(deps, req)).id);
        noteAudit(res, { subjectType: 'import' });
        res.json(await importJson(deps, record));
      },
    },
    {
      method: 'get',
      path: '/incidents/:id/campaigns',
      operationId: 'listCampaigns',
      summary: "The incident's campaigns, newest first",
      access: 'campaigns:read',
      responses: { 200: 'CampaignList' },
      handler: async (req, res) => {
        const incident = await incidentOf(deps, req);
        const campaigns = await campaignSummaries(deps, { incidentId: incident.id });
        res.json({ items: campaigns.map(campaignJson) });
      },
    },
    {
      method: 'post',
      path: '/incidents/:id/campaigns',
      operationId: 'createCampaign',
      summary: 'Draft a campaign',
      access: 'campaigns:write',
      audit: 'campaign.create',
      body: { schema: 'NewCampaign' },
      responses: { 201: 'Campaign' },
      handler: async (req, res) => {
        const incident = await incidentOf(deps, req);
        const body = req.body as NewCampaignBody;
        const campaign = await createCampaign(deps, {
          incidentId: incident.id,
          kind: body.kind,
          audience: body.audience,
          channelPolicy: body.channels ? { order: body.channels } : DEFAULT_CHANNEL_POLICY,
          createdBy: staffId(res),
          updateId: body.updateId ?? null,
        });
        noteAudit(res, {
          subjectType: 'campaign',
          subjectId: campaign.id,
          details: { incidentId: incident.id },
        });
        res.status(201).json(campaignJson(campaign));
      },
    },
    {
      method: 'get',
      path: '/campaigns/:id',
      operationId: 'getCampaign',
      summary: 'One campaign',
      access: 'campaigns:read',
      responses: { 200: 'Campaign' },
      handler: async (req, res) => {
        res.json(campaignJson(await campaignOf(deps, req)));
      },
    },
    {
      method: 'post',
      path: '/campaigns/:id/submit',
      operationId: 'submitCampaign',
      summary: "Ask for a second person's approval",
      access: 'campaigns:write',
      audit: 'campaign.submit',
      responses: { 200: 'Campaign' },
      handler: async (req, res) => {
        const campaign = await submitCampaign(deps, { campaignId: (await campaignOf(deps, req)).id });
        noteAudit(res, { subjectType: 'campaign' });
        res.json(campaignJson(campaign));
      },
    },
    {
      method: 'post',
      path: '/campaigns/:id/approve',
      operationId: 'approveCampaign',
      summary: "Approve and start sending: never by the campaign's creator (four eyes)",
      access: 'campaigns:approve',
      audit: 'campaign.approve',
      body: { schema: 'Review' },
      responses: { 200: 'Campaign' },
      handler: async (req, res) => {
        const campaign = await approveAndStart(deps, {
          campaignId: (await campaignOf(deps, req)).id,
          approverId: staffId(res),
          note: ((req.body as ReviewBody).note ?? '').trim(),
        });
        noteAudit(res, { subjectType: 'campaign' });
        res.json(campaignJson((await findCampaign(deps.db, campaign.id)) ?? campaign));
      },
    },
    {
      method: 'post',
      path: '/campaigns/:id/reject',
      operationId: 'rejectCampaign',
      summary: 'Send a campaign back with a note',
      access: 'campaigns:approve',
      audit: 'campaign.reject',
      body: { schema: 'Review' },
      responses: { 200: 'Campaign' },
      handler: async (req, res) => {
        const note = ((req.body as ReviewBody).note ?? '').trim();
        if (!note) throw new ValidationError('Say what needs to change in a note.');
        const campaign = await rejectCampaign(deps, { campaignId: (await campaignOf(deps, req)).id, note });
        noteAudit(res, { subjectType: 'campaign' });
        res.json(campaignJson(campaign));
      },
    },
    // Stopping is the safe direction, so an editor may pause or cancel; sending again needs an approver.
    ...(
      [
        [
          'pause',
          'pauseCampaign',
          'Pause sending: nothing new goes out until resumed',
          'campaigns:write',
          pauseCampaign,
        ],
        ['resume', 'resumeCampaign', 'Resume a paused campaign', 'campaigns:approve', resumeCampaign],
        [
          'cancel',
          'cancelCampaign',
          'Cancel for good: messages not yet sent never will be',
          'campaigns:write',
          cancelCampaign,
        ],
      ] as const
    ).map(([action, operationId, summary, access, useCase]): ApiRoute => ({
      method: 'post',
      path: `/campaigns/:id/${action}`,
      operationId,
      summary,
      access,
      audit: `campaign.${action}`,
      responses: { 200: 'Campaign' },
      handler: async (req, res) => {
        const campaign = await useCase(deps, { campaignId: (await campaignOf(deps, req)).id });
        noteAudit(res, { subjectType: 'campaign' });
        res.json(campaignJson(campaign));
      },
    })),
    {
      method: 'get',
      path: '/campaigns/:id/plan',
      operationId: 'getCampaignPlan',
      summary:
        'What the fan-out will create, per channel and language: who is held for calling hours and until when, who gets a fallback language, who already has a live notice',
      access: 'campaigns:read',
      responses: { 200: 'AudiencePlan' },
      handler: async (req, res) => {
        const plan = await planCampaign(deps, { campaignId: (await campaignOf(deps, req)).id });
        res.json({
          campaignId: plan.campaignId,
          at: plan.at,
          people: plan.people,
          byChannelAndLocale: plan.byChannelAndLocale,
          held: plan.held,
          fallbackLanguages: plan.fallbackLanguages,
          skipped: plan.skipped,
        });
      },
    },
    {
      method: 'get',
      path: '/campaigns/:id/progress',
      operationId: 'getCampaignProgress',
      summary:
        'Where a campaign stands: people reached and settled; each attempt counted on the channel it happened on; failures; what waits for calling hours; when it should finish',
      access: 'campaigns:read',
      responses: { 200: 'Progress' },
      handler: async (req, res) => {
        const campaign = await campaignOf(deps, req);
        const progress = await campaignDashboard(deps, { campaignId: campaign.id });
        res.json({
          campaignId: campaign.id,
          status: progress.status,
          total: progress.people,
          settled: progress.settled,
          percent: progress.percent,
          fanoutDone: progress.fanoutComplete,
          reached: progress.reached,
          exhausted: progress.exhausted,
          skipped: progress.skipped,
          byStatus: progress.totals,
          byChannel: progress.byChannel,
          failures: progress.failures,
          held: progress.held,
          finishesAt: progress.finishesAt,
          resends: progress.resends,
        });
      },
    },
    {
      method: 'get',
      path: '/deliveries',
      operationId: 'searchDeliveries',
      summary: 'Everything sent to the person with this reference code, and its status',
      access: 'deliveries:search',
      query: [
        {
          name: 'reference',
          required: true,
          description: "The reference code printed on the person's notice (any case, dashes optional).",
          schema: { type: 'string' },
        },
      ],
      responses: { 200: 'PersonDeliveries' },
      handler: async (req, res) => {
        const reference = typeof req.query.reference === 'string' ? req.query.reference : '';
        const found = await findDeliveriesByReference(deps.db, deps.vault, reference);
        if (!found) throw new NotFoundError('No one has that reference code.');
        res.json(found);
      },
    },
  ];
}
