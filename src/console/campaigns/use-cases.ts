import type { Audience } from '../../campaigns/lifecycle.js';
import type { ChannelPolicy } from '../../campaigns/channel-policy.js';
import type { MessageKind } from '../../notices/render.js';
import {
  approveCampaign,
  createCampaign,
  rejectCampaign,
  startCampaign,
  submitCampaign,
  type CampaignDeps,
} from '../../campaigns/service.js';
import type { Campaign } from '../../campaigns/store.js';

/**
 * What staff do with a campaign, for the console and the API alike. Each step is a campaign use
 * case (src/campaigns/service.ts); these only put them in the order staff meet them.
 */
export function createCampaignDraft(
  deps: CampaignDeps,
  input: {
    incidentId: number;
    kind: MessageKind;
    audience: Audience;
    channelPolicy: ChannelPolicy;
    createdBy: number;
    updateId?: number | null;
  },
): Promise<Campaign> {
  return createCampaign(deps, input);
}

export function submitForApproval(deps: CampaignDeps, input: { campaignId: number }) {
  return submitCampaign(deps, input);
}

/**
 * The second pair of eyes says yes, and sending starts. The approval refuses the campaign's own
 * creator (four eyes, also a database constraint), so an approved campaign always had two people.
 */
export async function approveAndStart(
  deps: CampaignDeps,
  input: { campaignId: number; approverId: number; note: string },
): Promise<Campaign> {
  await approveCampaign(deps, {
    campaignId: input.campaignId,
    approverId: input.approverId,
    ...(input.note ? { note: input.note } : {}),
  });
  return startCampaign(deps, { campaignId: input.campaignId });
}

export function rejectCampaignWithNote(
  deps: CampaignDeps,
  input: { campaignId: number; reviewerId: number; note: string },
) {
  return rejectCampaign(deps, { campaignId: input.campaignId, note: input.note });
}
