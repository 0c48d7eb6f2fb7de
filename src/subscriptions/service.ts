import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import { findIncidentById } from '../incidents/store.js';
import {
  PORTAL_JOB_OPTIONS,
  PORTAL_JOBS,
  portalJobIds,
  portalMessageId,
  type PortalQueue,
} from '../portal-messages/queue.js';
import { renderSubscriptionConfirmation } from '../portal-messages/render.js';
import {
  confirmByToken,
  findSubscription,
  insertSubscription,
  linkSubscriptionToPerson,
  markConfirmationSent,
  setConfirmationToken,
  subscribePersonByEmail,
} from './store.js';

/** A confirmation link works for a week: long enough for a busy inbox, short enough to go stale. */
export const CONFIRMATION_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * "Tell me about updates", double opt-in: nothing changes until the owner of the address follows the
 * link we send to it. The same work and the same answer whoever asks for whichever address.
 */
export async function requestSubscription(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'> & { portalQueue: PortalQueue },
  request: { incidentId: number; email: string; locale: string },
): Promise<void> {
  const id = await insertSubscription(deps.db, {
    incidentId: request.incidentId,
    contactHash: deps.vault.hash('email', request.email),
    contactEnc: deps.vault.seal(request.email),
    locale: request.locale,
    at: deps.clock.now(),
  });
  await deps.portalQueue.add(
    PORTAL_JOBS.subscriptionConfirmation,
    { v: 1, subscriptionId: id },
    { ...PORTAL_JOB_OPTIONS, jobId: portalJobIds.subscriptionConfirmation(id) },
  );
}

/** The worker's half: mints the link's token (only its hash is kept) and mails it to the address given. */
export async function sendSubscriptionConfirmation(
  deps: Pick<Deps, 'db' | 'vault' | 'i18n' | 'channels' | 'clock' | 'config' | 'logger'>,
  subscriptionId: number,
): Promise<void> {
  const subscription = await findSubscription(deps.db, subscriptionId);
  if (!subscription || subscription.status !== 'pending') return;
  const incident = await findIncidentById(deps.db, subscription.incidentId);
  if (!incident) return;
  const token = crypto.randomBytes(32).toString('base64url');
  // A retried job finds a token already issued and cannot resend it (we keep only its hash): the
  // person asks again, which is cheaper than keeping tokens in a form we could read back.
  if (!(await setConfirmationToken(deps.db, subscription.id, deps.vault.hash('subscription_token', token))))
    return;
  const link = new URL(`/incidents/${incident.slug}/subscribe/confirm`, deps.config.publicBaseUrl);
  link.search = new URLSearchParams({ token, lang: subscription.locale }).toString();
  const content = renderSubscriptionConfirmation(
    deps.i18n.getFixedT(subscription.locale),
    subscription.locale,
    {
      organisation: incident.organisationName,
      link: link.toString(),
    },
  );
  await deps.channels.email.send({
    messageId: portalMessageId.subscriptionConfirmation(subscription.id),
    channel: 'email',
    locale: subscription.locale,
    largePrint: false,
    to: { name: null, email: deps.vault.open(subscription.contactEnc), phone: null, postalAddress: null },
    content,
  });
  await markConfirmationSent(deps.db, subscription.id, deps.clock.now());
  deps.logger.info({ subscriptionId: subscription.id }, 'subscription confirmation sent');
}

/** Following the link: the address's owner said yes. */
export async function confirmSubscription(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  confirmation: { incidentId: number; token: string },
): Promise<boolean> {
  const now = deps.clock.now();
  const confirmed = await confirmByToken(deps.db, {
    incidentId: confirmation.incidentId,
    tokenHash: deps.vault.hash('subscription_token', confirmation.token),
    now,
    maxAgeMs: CONFIRMATION_MAX_AGE_MS,
  });
  if (!confirmed) return false;
  const personId = await subscribePersonByEmail(deps.db, deps.vault, {
    incidentId: confirmation.incidentId,
    email: deps.vault.open(confirmed.contactEnc),
    emailHash: confirmed.contactHash,
    locale: confirmed.locale,
    at: now,
  });
  await linkSubscriptionToPerson(deps.db, confirmed.id, personId);
  return true;
}
