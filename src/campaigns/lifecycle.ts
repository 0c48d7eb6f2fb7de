import { ConflictError, ForbiddenError } from '../platform/errors.js';

/**
 * A campaign's life: draft → awaiting_approval → approved → sending → completed, with rejected,
 * paused and cancelled on the way. Pure: the use cases ask here before they write.
 */
export const CAMPAIGN_STATUSES = [
  'draft',
  'awaiting_approval',
  'approved',
  'rejected',
  'sending',
  'paused',
  'completed',
  'cancelled',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const AUDIENCES = [
  'affected',
  'everyone',
  'subscribers',
  'subscribers_and_affected',
  'not_reached',
  'failed',
] as const;
export type Audience = (typeof AUDIENCES)[number];

export type CampaignAction =
  'submit' | 'approve' | 'reject' | 'start' | 'pause' | 'resume' | 'cancel' | 'complete' | 'reopen';

const TRANSITIONS: Record<CampaignAction, { from: readonly CampaignStatus[]; to: CampaignStatus }> = {
  submit: { from: ['draft', 'rejected'], to: 'awaiting_approval' },
  approve: { from: ['awaiting_approval'], to: 'approved' },
  reject: { from: ['awaiting_approval'], to: 'rejected' },
  start: { from: ['approved'], to: 'sending' },
  pause: { from: ['sending'], to: 'paused' },
  resume: { from: ['paused'], to: 'sending' },
  cancel: {
    from: ['draft', 'awaiting_approval', 'approved', 'rejected', 'sending', 'paused'],
    to: 'cancelled',
  },
  complete: { from: ['sending'], to: 'completed' },
  // A bounce that arrives after the campaign completed sends it back to work on the next channel.
  reopen: { from: ['completed'], to: 'sending' },
};

const PAST: Record<CampaignAction, string> = {
  submit: 'submitted',
  approve: 'approved',
  reject: 'rejected',
  start: 'started',
  pause: 'paused',
  resume: 'resumed',
  cancel: 'cancelled',
  complete: 'completed',
  reopen: 'reopened',
};

export function nextCampaignStatus(current: CampaignStatus, action: CampaignAction): CampaignStatus {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(current)) {
    throw new ConflictError(`A campaign that is ${current.replace('_', ' ')} cannot be ${PAST[action]}.`);
  }
  return rule.to;
}

/** Four eyes: whoever created a campaign may not be the one who approves it. */
export function assertCanApprove(campaign: { createdBy: number | null }, approverId: number): void {
  if (campaign.createdBy === approverId) {
    throw new ForbiddenError('A campaign must be approved by someone other than the person who created it.');
  }
}

/** A campaign that may send but whose scheduled time has not come yet: nothing goes out before it. */
export function isWaitingForSchedule(campaign: { scheduledFor: Date | null }, now: Date): boolean {
  return campaign.scheduledFor !== null && campaign.scheduledFor > now;
}
