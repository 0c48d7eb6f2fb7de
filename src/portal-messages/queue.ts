import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { queueNames, type QueuePlacement } from '../queues.js';

export const PORTAL_JOBS = {
  accessCode: 'access-code',
  subscriptionConfirmation: 'subscription-confirmation',
  supportReply: 'support-reply',
} as const;

export interface AccessCodeJob {
  v: 1;
  accessRequestId: number;
}

export interface SubscriptionConfirmationJob {
  v: 1;
  subscriptionId: number;
}

/** A staff answer to a text or an email, from the support queue (src/inbound). */
export interface SupportReplyJob {
  v: 1;
  supportReplyId: number;
}

export type PortalJob = AccessCodeJob | SubscriptionConfirmationJob | SupportReplyJob;

export const portalJobIds = {
  accessCode: (accessRequestId: number) => `access-${accessRequestId}`,
  subscriptionConfirmation: (subscriptionId: number) => `subscription-${subscriptionId}`,
  supportReply: (supportReplyId: number) => `support-reply-${supportReplyId}`,
};

export const PORTAL_JOB_OPTIONS: JobsOptions = {
  // A code is useless after 10 minutes: retry quickly, and not for long.
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 10_000 },
};

export type PortalQueue = Queue<PortalJob>;

/**
 * The portal's own messages: a one-time code for someone who asked by email or phone, and the link
 * that confirms an update subscription. Kept apart from the campaign send queues so a mass send never
 * delays the code a person is waiting for. Payloads carry ids only.
 * Named in Redis by queueNames, like every queue.
 */
export function createPortalQueue(connection: ConnectionOptions, placement: QueuePlacement): PortalQueue {
  return new Queue<PortalJob>(queueNames(placement).portal, { connection, prefix: placement.prefix });
}

/**
 * Portal messages are not campaign messages, so they have no `messages` row. The channel adapters
 * carry a message id through the provider for receipts; a negative id can never match a campaign
 * message, so a receipt for a code is stored and changes nothing. One residue modulo 3 per kind
 * (access codes, subscription confirmations, support answers), so the sandbox outbox can tell them apart.
 */
export const portalMessageId = {
  accessCode: (accessRequestId: number) => -(accessRequestId * 3),
  subscriptionConfirmation: (subscriptionId: number) => -(subscriptionId * 3 + 1),
  supportReply: (supportReplyId: number) => -(supportReplyId * 3 + 2),
};
