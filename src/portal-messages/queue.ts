import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { QUEUE_NAMES } from '../queues.js';

/**
 * The portal's own messages: a one-time code for someone who asked by email or phone, and the link
 * that confirms an update subscription. Kept apart from the campaign send queues so a mass send never
 * delays the code a person is waiting for. Payloads carry ids only.
 */
export const PORTAL_QUEUE_NAME = QUEUE_NAMES.portal;

export const PORTAL_JOBS = {
  accessCode: 'access-code',
  subscriptionConfirmation: 'subscription-confirmation',
} as const;

export interface AccessCodeJob {
  v: 1;
  accessRequestId: number;
}

export interface SubscriptionConfirmationJob {
  v: 1;
  subscriptionId: number;
}

export type PortalJob = AccessCodeJob | SubscriptionConfirmationJob;

export const portalJobIds = {
  accessCode: (accessRequestId: number) => `access-${accessRequestId}`,
  subscriptionConfirmation: (subscriptionId: number) => `subscription-${subscriptionId}`,
};

export const PORTAL_JOB_OPTIONS: JobsOptions = {
  // A code is useless after 10 minutes: retry quickly, and not for long.
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 10_000 },
};

export type PortalQueue = Queue<PortalJob>;

export function createPortalQueue(connection: ConnectionOptions, prefix: string): PortalQueue {
  return new Queue<PortalJob>(PORTAL_QUEUE_NAME, { connection, prefix });
}

/**
 * Portal messages are not campaign messages, so they have no `messages` row. The channel adapters
 * carry a message id through the provider for receipts; a negative id can never match a campaign
 * message, so a receipt for a code is stored and changes nothing. Even for access codes, odd for
 * subscription confirmations, so the sandbox outbox can tell them apart.
 */
export const portalMessageId = {
  accessCode: (accessRequestId: number) => -(accessRequestId * 2),
  subscriptionConfirmation: (subscriptionId: number) => -(subscriptionId * 2 + 1),
};
