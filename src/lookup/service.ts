import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import { findIncidentById } from '../incidents/store.js';
import { normalizePostalCode } from '../people/contact.js';
import {
  PORTAL_JOB_OPTIONS,
  PORTAL_JOBS,
  portalJobIds,
  portalMessageId,
  type PortalQueue,
} from '../portal-messages/queue.js';
import { renderAccessCode } from '../portal-messages/render.js';
import {
  contactOnFile,
  findAccessRequest,
  findPersonByContact,
  findPersonByReference,
  insertAccessRequest,
  markAccessRequestMatched,
  markAccessRequestNoMatch,
  markAccessRequestSent,
  redeemAccessCode,
} from './store.js';
import type { Contact } from './validation.js';

/** One-time codes last ten minutes and work once. */
export const ACCESS_CODE_MINUTES = 10;

function accessCodeHash(deps: Pick<Deps, 'vault'>, publicId: string, code: string): Buffer {
  // Bound to its request: the same six digits from another request never match.
  return deps.vault.hash('one_time_code', `${publicId}:${code}`);
}

/**
 * "Send me a code": records the request and queues its job, and nothing else. It does exactly the
 * same work whether or not the contact is on file (it never looks), so neither the answer nor its
 * timing can tell anyone. The worker looks, and writes only to the contact on file.
 */
export async function requestAccess(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'> & { portalQueue: PortalQueue },
  request: { incidentId: number; contact: Contact; locale: string },
): Promise<{ publicId: string }> {
  const publicId = crypto.randomUUID();
  const now = deps.clock.now();
  const id = await insertAccessRequest(deps.db, {
    publicId,
    incidentId: request.incidentId,
    channel: request.contact.channel,
    contactHash: deps.vault.hash(
      request.contact.channel === 'email' ? 'email' : 'phone',
      request.contact.value,
    ),
    locale: request.locale,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ACCESS_CODE_MINUTES * 60_000),
  });
  await deps.portalQueue.add(
    PORTAL_JOBS.accessCode,
    { v: 1, accessRequestId: id },
    { ...PORTAL_JOB_OPTIONS, jobId: portalJobIds.accessCode(id) },
  );
  return { publicId };
}

/**
 * The worker's half: finds whether the contact is on file and, only if it is, sends a one-time code
 * to the contact we hold. Safe to run twice: a matched request resends the same code, a sent or
 * unmatched one does nothing.
 */
export async function sendAccessCode(
  deps: Pick<Deps, 'db' | 'vault' | 'i18n' | 'channels' | 'clock' | 'config' | 'logger'>,
  accessRequestId: number,
): Promise<void> {
  const request = await findAccessRequest(deps.db, accessRequestId);
  if (!request || request.status === 'no_match' || request.status === 'sent') return;
  const now = deps.clock.now();
  if (request.expiresAt <= now) return;

  let personId = request.personId;
  let codeEnc = request.codeEnc;
  if (request.status === 'pending') {
    const person = await findPersonByContact(
      deps.db,
      request.incidentId,
      request.channel,
      request.contactHash,
    );
    if (!person) {
      await markAccessRequestNoMatch(deps.db, request.id, now);
      return;
    }
    const code = crypto.randomInt(0, 1_000_000).toString().padStart(6, '0');
    codeEnc = deps.vault.seal(code);
    const matched = await markAccessRequestMatched(deps.db, request.id, {
      personId: person.id,
      codeHash: accessCodeHash(deps, request.publicId, code),
      codeEnc,
      at: now,
    });
    // Another run of this job matched it first and sends its own code.
    if (!matched) return;
    personId = person.id;
  }
  if (personId === null || codeEnc === null) return;

  const [contact, incident] = await Promise.all([
    contactOnFile(deps.db, personId),
    findIncidentById(deps.db, request.incidentId),
  ]);
  const sealedTo = request.channel === 'email' ? contact?.emailEnc : contact?.phoneEnc;
  if (!sealedTo || !incident) return;
  const to = deps.vault.open(sealedTo);
  const code = deps.vault.open(codeEnc);
  const link = new URL(`/incidents/${incident.slug}/check/code`, deps.config.publicBaseUrl);
  link.search = new URLSearchParams({ request: request.publicId, code, lang: request.locale }).toString();
  const content = renderAccessCode(deps.i18n.getFixedT(request.locale), request.locale, request.channel, {
    organisation: incident.organisationName,
    code,
    link: link.toString(),
    minutes: ACCESS_CODE_MINUTES,
  });
  // No transaction is open here: the provider call may be slow (STYLE 22).
  const result = await deps.channels[request.channel].send({
    messageId: portalMessageId.accessCode(request.id),
    channel: request.channel,
    locale: request.locale,
    largePrint: false,
    to: {
      name: null,
      email: request.channel === 'email' ? to : null,
      phone: request.channel === 'sms' ? to : null,
      postalAddress: null,
    },
    content,
  });
  await markAccessRequestSent(deps.db, request.id);
  deps.logger.info(
    { accessRequestId: request.id, channel: request.channel, provider: result.provider },
    'access code sent',
  );
}

/** Signs in with the code from the message, once, within its ten minutes. */
export async function redeemCode(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  redemption: { incidentId: number; publicId: string; code: string },
): Promise<number | null> {
  return redeemAccessCode(deps.db, {
    publicId: redemption.publicId,
    incidentId: redemption.incidentId,
    codeHash: accessCodeHash(deps, redemption.publicId, redemption.code),
    now: deps.clock.now(),
  });
}

function sameHash(stored: Buffer | null, candidate: Buffer | null): boolean {
  return stored !== null && candidate !== null && crypto.timingSafeEqual(stored, candidate);
}

/**
 * The reference code from a notice plus one thing only that person knows (postcode or year of birth).
 * Unknown code and wrong verifier give the same answer.
 */
export async function verifyReference(
  deps: Pick<Deps, 'db' | 'vault'>,
  attempt: { incidentId: number; reference: string; verifier: string },
): Promise<number | null> {
  const person = await findPersonByReference(
    deps.db,
    attempt.incidentId,
    deps.vault.hash('reference', attempt.reference),
  );
  if (!person) return null;
  const postalCode = normalizePostalCode(attempt.verifier);
  const year = /^\d{4}$/.test(attempt.verifier.trim()) ? attempt.verifier.trim() : null;
  const matches =
    sameHash(person.postalCodeHash, postalCode ? deps.vault.hash('postal_code', postalCode) : null) ||
    sameHash(person.birthYearHash, year ? deps.vault.hash('birth_year', year) : null);
  return matches ? person.id : null;
}
