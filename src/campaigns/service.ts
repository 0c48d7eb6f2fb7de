import type { Db } from '../platform/db.js';
import type { Clock } from '../platform/clock.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { FANOUT_JOB_OPTIONS, jobIds, type Queues } from '../queues.js';
import type { MessageKind } from '../notices/render.js';
import { findIncidentById } from '../incidents/store.js';
import type { ChannelPolicy } from './channel-policy.js';
import { assertCanApprove, nextCampaignStatus, type Audience, type CampaignAction } from './lifecycle.js';
import { findCampaign, insertCampaign, transitionCampaign, type Campaign } from './store.js';

/** The campaign use cases, each read in the order a person would tell it. */
export interface CampaignDeps {
  db: Db;
  queues: Queues;
  clock: Clock;
}

export async function createCampaign(
  deps: CampaignDeps,
  input: {
    incidentId: number;
    kind: MessageKind;
    audience: Audience;
    channelPolicy: ChannelPolicy;
    createdBy: number | null;
    updateId?: number | null;
  },
): Promise<Campaign> {
  const incident = await findIncidentById(deps.db, input.incidentId);
  if (!incident) throw new NotFoundError(`There is no incident ${input.incidentId}.`);
  return insertCampaign(deps.db, { ...input, updateId: input.updateId ?? null });
}

async function act(
  deps: CampaignDeps,
  campaignId: number,
  action: CampaignAction,
  extra: { approvedBy?: number; reviewNote?: string } = {},
) {
  const campaign = await findCampaign(deps.db, campaignId);
  if (!campaign) throw new NotFoundError(`There is no campaign ${campaignId}.`);
  if (action === 'approve' && extra.approvedBy !== undefined) assertCanApprove(campaign, extra.approvedBy);
  const next = nextCampaignStatus(campaign.status, action);
  const moved = await transitionCampaign(deps.db, campaignId, campaign.status, next, deps.clock.now(), extra);
  if (!moved)
    throw new ConflictError(
      'Someone else changed this campaign at the same moment. Reload to see where it stands.',
    );
  return { ...campaign, status: next };
}

export function submitCampaign(deps: CampaignDeps, input: { campaignId: number }) {
  return act(deps, input.campaignId, 'submit');
}

export function approveCampaign(
  deps: CampaignDeps,
  input: { campaignId: number; approverId: number; note?: string },
) {
  return act(deps, input.campaignId, 'approve', {
    approvedBy: input.approverId,
    ...(input.note ? { reviewNote: input.note } : {}),
  });
}

export function rejectCampaign(deps: CampaignDeps, input: { campaignId: number; note: string }) {
  return act(deps, input.campaignId, 'reject', { reviewNote: input.note });
}

/** Starts sending: the campaign is marked sending in PostgreSQL first, then its fan-out job is queued. */
export async function startCampaign(deps: CampaignDeps, input: { campaignId: number }): Promise<Campaign> {
  const campaign = await act(deps, input.campaignId, 'start');
  await deps.queues.fanout.add(
    'fanout',
    { v: 1, campaignId: campaign.id },
    { ...FANOUT_JOB_OPTIONS, jobId: jobIds.fanout(campaign.id) },
  );
  return campaign;
}
