import type { Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { parseForm } from '../../web/forms.js';
import { AUDIENCES } from '../../campaigns/lifecycle.js';
import { CHANNELS, isChannel, type Channel } from '../../channels/kinds.js';
import { GENERAL_MESSAGE_KINDS } from '../../notices/render.js';
import {
  approveAndStart,
  audienceSizes,
  campaignDashboard,
  campaignProgress,
  cancelCampaign,
  createCampaign,
  loadCampaign,
  pauseCampaign,
  planCampaign,
  rejectCampaign,
  resumeCampaign,
  submitCampaign,
} from '../../campaigns/service.js';
import { isWaitingForSchedule } from '../../campaigns/lifecycle.js';
import { readCampaignReview } from '../../campaigns/store.js';
import { type ConsoleRoute } from '../routing.js';
import { noteAudit } from '../../web/audit-trail.js';
import { loadIncident } from '../../incidents/service.js';
import { staffOf } from '../../web/staff.js';

const newCampaignForm = z.object({
  kind: z.enum(GENERAL_MESSAGE_KINDS, 'console:campaigns.errors.kindMissing'),
  audience: z.enum(AUDIENCES, 'console:campaigns.errors.audienceMissing'),
  order1: z.string().optional(),
  order2: z.string().optional(),
  order3: z.string().optional(),
  order4: z.string().optional(),
});

/** The fallback order as the editor chose it, first to last, each channel once. */
export function readChannelOrder(values: (string | undefined)[]): Channel[] {
  return [...new Set(values.filter((value): value is Channel => value !== undefined && isChannel(value)))];
}

export function campaignRoutes(deps: Deps): ConsoleRoute[] {
  const renderNew = async (
    res: Response,
    incidentId: number,
    values: Record<string, unknown>,
    errors: { field: string; messageKey: string }[] = [],
  ) => {
    const incident = await loadIncident(deps, incidentId);
    const audienceCounts = await audienceSizes(deps, { incidentId: incident.id });
    res.status(errors.length ? 400 : 200).render('console/campaigns/new', {
      incident,
      // Code offers and reminders are made from a code pool's page, which knows who may have a code.
      kinds: GENERAL_MESSAGE_KINDS,
      audiences: AUDIENCES,
      channels: CHANNELS,
      audienceCounts,
      values: {
        kind: 'initial_notice',
        audience: 'affected',
        order1: 'email',
        order2: 'sms',
        order3: 'voice',
        order4: 'letter',
        ...values,
      },
      errors,
    });
  };

  return [
    {
      method: 'get',
      path: '/console/incidents/:id/campaigns/new',
      access: 'campaigns:write',
      handler: async (req, res) => {
        const audience = typeof req.query.audience === 'string' ? { audience: req.query.audience } : {};
        await renderNew(res, (await loadIncident(deps, req.params.id)).id, audience);
      },
    },
    {
      method: 'post',
      path: '/console/incidents/:id/campaigns',
      access: 'campaigns:write',
      audit: 'campaign.create',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const form = parseForm(newCampaignForm, req.body);
        const order = form.ok
          ? readChannelOrder([form.data.order1, form.data.order2, form.data.order3, form.data.order4])
          : [];
        if (!form.ok || order.length === 0) {
          const errors = form.ok ? [] : form.errors;
          if (order.length === 0)
            errors.push({ field: 'order1', messageKey: 'console:campaigns.errors.noChannel' });
          await renderNew(res, incident.id, req.body as Record<string, unknown>, errors);
          return;
        }
        const campaign = await createCampaign(deps, {
          incidentId: incident.id,
          kind: form.data.kind,
          audience: form.data.audience,
          channelPolicy: { order },
          createdBy: staffOf(res).id,
        });
        noteAudit(res, {
          subjectType: 'campaign',
          subjectId: campaign.id,
          details: { incidentId: incident.id },
        });
        res.redirect(303, `/console/campaigns/${campaign.id}`);
      },
    },
    {
      method: 'get',
      path: '/console/campaigns/:id',
      access: 'campaigns:read',
      handler: async (req, res) => {
        const campaign = await loadCampaign(deps, req.params.id);
        const incident = await loadIncident(deps, campaign.incidentId);
        // The approver sees what the fan-out will create, from the function the fan-out runs.
        const beforeSending = ['draft', 'rejected', 'awaiting_approval', 'approved'].includes(
          campaign.status,
        );
        const [progress, plan, review] = await Promise.all([
          campaignDashboard(deps, { campaignId: campaign.id }),
          beforeSending ? planCampaign(deps, { campaignId: campaign.id }) : null,
          readCampaignReview(deps.db, campaign.id),
        ]);
        const live = campaign.status === 'sending' || campaign.status === 'approved';
        res.render('console/campaigns/show', {
          campaign,
          incident,
          progress,
          plan,
          ...review,
          isCreator: campaign.createdBy === staffOf(res).id,
          startsAt: isWaitingForSchedule(campaign, deps.clock.now()) ? campaign.scheduledFor : null,
          refreshSeconds: live ? 5 : 0,
          errors:
            req.query.error === 'noteMissing'
              ? [{ field: 'note', messageKey: 'console:campaigns.errors.noteMissing' }]
              : [],
        });
      },
    },
    {
      method: 'get',
      path: '/console/campaigns/:id/events',
      access: 'campaigns:read',
      handler: async (req, res) => {
        const campaign = await loadCampaign(deps, req.params.id);
        // Server-sent events: the page's progress bar follows along; without JavaScript the page refreshes itself.
        res.set({
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-store',
          Connection: 'keep-alive',
        });
        res.flushHeaders();
        let open = true;
        req.on('close', () => {
          open = false;
        });
        const deadline = Date.now() + 10 * 60 * 1000;
        while (open && Date.now() < deadline) {
          const progress = await campaignProgress(deps, { campaignId: campaign.id });
          res.write(`event: progress\ndata: ${JSON.stringify(progress)}\n\n`);
          if (
            ['completed', 'cancelled', 'rejected'].includes(progress.status) ||
            (progress.fanoutComplete && progress.settled >= progress.people)
          )
            break;
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
        res.end();
      },
    },
    {
      method: 'post',
      path: '/console/campaigns/:id/submit',
      access: 'campaigns:write',
      audit: 'campaign.submit',
      handler: async (req, res) => {
        const campaign = await submitCampaign(deps, {
          campaignId: (await loadCampaign(deps, req.params.id)).id,
        });
        res.redirect(303, `/console/campaigns/${campaign.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/campaigns/:id/approve',
      access: 'campaigns:approve',
      audit: 'campaign.approve',
      handler: async (req, res) => {
        const note =
          typeof (req.body as Record<string, unknown>).note === 'string'
            ? ((req.body as Record<string, string>).note ?? '').trim()
            : '';
        const campaign = await approveAndStart(deps, {
          campaignId: (await loadCampaign(deps, req.params.id)).id,
          approverId: staffOf(res).id,
          note,
        });
        res.redirect(303, `/console/campaigns/${campaign.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/campaigns/:id/reject',
      access: 'campaigns:approve',
      audit: 'campaign.reject',
      handler: async (req, res) => {
        const campaign = await loadCampaign(deps, req.params.id);
        const note =
          typeof (req.body as Record<string, unknown>).note === 'string'
            ? ((req.body as Record<string, string>).note ?? '').trim()
            : '';
        if (!note) {
          res.redirect(303, `/console/campaigns/${campaign.id}?error=noteMissing#note`);
          return;
        }
        await rejectCampaign(deps, { campaignId: campaign.id, note });
        res.redirect(303, `/console/campaigns/${campaign.id}`);
      },
    },
    // Stopping is the safe direction, so an editor may pause or cancel; sending again needs an approver.
    ...(
      [
        ['pause', 'campaigns:write', pauseCampaign],
        ['resume', 'campaigns:approve', resumeCampaign],
        ['cancel', 'campaigns:write', cancelCampaign],
      ] as const
    ).map(([action, access, useCase]): ConsoleRoute => ({
      method: 'post',
      path: `/console/campaigns/:id/${action}`,
      access,
      audit: `campaign.${action}`,
      handler: async (req, res) => {
        const campaign = await loadCampaign(deps, req.params.id);
        await useCase(deps, { campaignId: campaign.id });
        res.redirect(303, `/console/campaigns/${campaign.id}`);
      },
    })),
  ];
}
