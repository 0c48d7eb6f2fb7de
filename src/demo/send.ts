import type { Deps } from '../deps.js';
import {
  approveCampaign,
  createCampaign,
  planCampaign,
  startCampaign,
  submitCampaign,
} from '../campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../campaigns/channel-policy.js';
import type { AudiencePlanSummary } from '../campaigns/plan.js';
import type { DemoSeed } from './seed.js';

/**
 * The demo's calling hours when the operator sets none: the demo's people are made up, and someone
 * trying Candor at 03:00 should see SMS and calls go as they would at 15:00. A real deployment keeps
 * the default 08:00-21:00 in each person's time zone.
 */
export const DEMO_CALLING_HOURS = '00:00-24:00';

/**
 * The demo's first notice, the way staff send one: the editor drafts and submits, a different person
 * approves, and it starts. Returns the approval plan, which says who waits for calling hours and until when.
 */
export async function sendDemoNotice(
  deps: Deps,
  seed: Pick<DemoSeed, 'incident' | 'editor' | 'approver'>,
): Promise<{ campaignId: number; plan: AudiencePlanSummary }> {
  const campaign = await createCampaign(deps, {
    incidentId: seed.incident.id,
    kind: 'initial_notice',
    audience: 'affected',
    channelPolicy: DEFAULT_CHANNEL_POLICY,
    createdBy: seed.editor.id,
  });
  await submitCampaign(deps, { campaignId: campaign.id });
  await approveCampaign(deps, { campaignId: campaign.id, approverId: seed.approver.id });
  const plan = await planCampaign(deps, { campaignId: campaign.id });
  await startCampaign(deps, { campaignId: campaign.id });
  return { campaignId: campaign.id, plan };
}

const CHANNEL_NAMES = { email: 'emails', sms: 'SMS', voice: 'calls', letter: 'letters' } as const;

/** Pure: what the demo prints about calling hours, so nobody wonders at 03:00 where the SMS went. */
export function describeCallingHours(plan: Pick<AudiencePlanSummary, 'held'>, callingHours: string): string {
  if (plan.held.length === 0)
    return callingHours === DEMO_CALLING_HOURS
      ? `SMS and calls go at any hour in this demo (CALLING_HOURS=${DEMO_CALLING_HOURS}); a real deployment sends them 08:00-21:00 in each person's time zone.`
      : `Nobody waits for calling hours (${callingHours} in each person's time zone): every notice goes now.`;
  const lines = plan.held.map(
    (group) =>
      `  ${group.people} ${CHANNEL_NAMES[group.channel]} at ${group.sendAfter.toISOString().slice(0, 16).replace('T', ' ')} UTC (${group.timeZones.join(', ')})`,
  );
  return [
    `Waiting for calling hours (${callingHours} in each person's time zone), then sent by themselves:`,
    ...lines,
    'The campaign page in the console lists them too.',
  ].join('\n');
}
