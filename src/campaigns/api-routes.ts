import type { Deps } from '../deps.js';
import { ValidationError } from '../platform/errors.js';
import type { ApiRoute } from '../api/routing.js';
import type { NewCampaignBody, ReviewBody } from '../api/schemas.js';
import { noteAudit } from '../web/audit-trail.js';
import { staffOf } from '../web/staff.js';
import { loadIncident } from '../incidents/service.js';
import { DEFAULT_CHANNEL_POLICY } from './channel-policy.js';
import { findCampaign, type Campaign } from './store.js';
import {
  approveAndStart,
  campaignDashboard,
  campaignSummaries,
  cancelCampaign,
  createCampaign,
  loadCampaign,
  pauseCampaign,
  planCampaign,
  rejectCampaign,
  resumeCampaign,
  submitCampaign,
} from './service.js';

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

/** The campaigns part of `/api/v1`: the same use cases as the console's campaign pages. */
export function campaignApiRoutes(deps: Deps): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/incidents/:id/campaigns',
      operationId: 'listCampaigns',
      summary: "The incident's campaigns, newest first",
      access: 'campaigns:read',
      responses: { 200: 'CampaignList' },
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
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
        const incident = await loadIncident(deps, req.params.id);
        const body = req.body as NewCampaignBody;
        const campaign = await createCampaign(deps, {
          incidentId: incident.id,
          kind: body.kind,
          audience: body.audience,
          channelPolicy: body.channels ? { order: body.channels } : DEFAULT_CHANNEL_POLICY,
          createdBy: staffOf(res).id,
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
        res.json(campaignJson(await loadCampaign(deps, req.params.id)));
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
        const campaign = await submitCampaign(deps, {
          campaignId: (await loadCampaign(deps, req.params.id)).id,
        });
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
          campaignId: (await loadCampaign(deps, req.params.id)).id,
          approverId: staffOf(res).id,
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
        const campaign = await rejectCampaign(deps, {
          campaignId: (await loadCampaign(deps, req.params.id)).id,
          note,
        });
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
        const campaign = await useCase(deps, { campaignId: (await loadCampaign(deps, req.params.id)).id });
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
        const plan = await planCampaign(deps, { campaignId: (await loadCampaign(deps, req.params.id)).id });
        res.json({
          campaignId: plan.campaignId,
          at: plan.at,
          people: plan.people,
          byChannelAndLocale: plan.byChannelAndLocale,
          held: plan.held,
          fallbackLanguages: plan.fallbackLanguages,
          missingTranslations: plan.missingTranslations,
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
        const campaign = await loadCampaign(deps, req.params.id);
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
  ];
}
