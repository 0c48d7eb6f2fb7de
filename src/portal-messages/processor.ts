import type { Job } from 'bullmq';
import type { Deps } from '../deps.js';
import { sendAccessCode } from '../lookup/service.js';
import { sendSubscriptionConfirmation } from '../subscriptions/service.js';
import { sendSupportReply } from '../inbound/service.js';
import {
  PORTAL_JOBS,
  type AccessCodeJob,
  type PortalJob,
  type SubscriptionConfirmationJob,
  type SupportReplyJob,
} from './queue.js';

export type PortalMessageDeps = Pick<
  Deps,
  'db' | 'vault' | 'i18n' | 'channels' | 'clock' | 'config' | 'logger'
>;

/** One processor for the portal queue; each job decides for itself whether there is anything to send. */
export function makePortalMessageProcessor(deps: PortalMessageDeps) {
  return async (job: Job<PortalJob>): Promise<void> => {
    switch (job.name) {
      case PORTAL_JOBS.accessCode:
        await sendAccessCode(deps, (job.data as AccessCodeJob).accessRequestId);
        return;
      case PORTAL_JOBS.subscriptionConfirmation:
        await sendSubscriptionConfirmation(deps, (job.data as SubscriptionConfirmationJob).subscriptionId);
        return;
      case PORTAL_JOBS.supportReply:
        await sendSupportReply(
          deps,
          (job.data as SupportReplyJob).supportReplyId,
          (job.opts.attempts ?? 1) - job.attemptsMade - 1,
        );
        return;
      default:
        throw new Error(`unknown portal job ${job.name}`);
    }
  };
}
