import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import { findIncidentById, type Incident } from '../incidents/store.js';
import { normalizeEmail, normalizePhone } from '../people/contact.js';
import { resolveLocale } from '../platform/i18n.js';
import { ConflictError, NotFoundError, ProviderError, ValidationError } from '../platform/errors.js';
import { helplineFor, lookupUrl } from '../campaigns/compose.js';
import { messageIdFromReplyAddress } from '../channels/reply-address.js';
import { simpleNotice } from '../notices/render.js';
import { findSupportRequest } from '../console/support/store.js';
import { PORTAL_JOB_OPTIONS, PORTAL_JOBS, portalJobIds, portalMessageId } from '../portal-messages/queue.js';
import { classifySms } from './keywords.js';
import {
  claimSupportReply,
  fileInboundReply,
  findPersonByHash,
  findPersonByMessage,
  finishSupportReply,
  insertSupportReply,
  recordSmsOptOut,
  removeSmsOptOut,
  smsOptOutOf,
  type ReplyingPerson,
} from './store.js';

/**
 * Conversations: what people text and email back, and what staff answer. Every use case here is
 * called by a thin route (the webhooks, the console) or by the portal worker; none logs a word of
 * what anyone wrote, nor a number or an address.
 */

/** What a text that is no keyword may hold; longer is cut (Twilio joins a long SMS to 1,600 characters). */
const MAX_TEXT = 10_000;

function refOf(provider: string, id: string | undefined): Buffer | null {
  return id ? crypto.createHash('sha256').update(`${provider}\0${id}`).digest() : null;
}

async function incidentOf(deps: Pick<Deps, 'db'>, person: ReplyingPerson | null): Promise<Incident | null> {
  return person ? findIncidentById(deps.db, person.incidentId) : null;
}

export type SmsAnswer = { kind: 'stop' | 'start' | 'help'; reply: string } | { kind: 'filed'; reply: null };

/**
 * A text from someone. STOP (in any of our languages) stops every SMS to that number and START
 * resumes them, both recorded with the time; HELP is answered with the helpline in the person's
 * language; anything else lands in the support queue, linked to whoever holds that number.
 * Returns the answer to text back (TwiML <Message>), if any.
 */
export async function receiveSms(
  deps: Pick<Deps, 'db' | 'vault' | 'clock' | 'i18n' | 'logger'>,
  sms: { from: string; body: string; messageSid: string | undefined },
): Promise<SmsAnswer> {
  const number = normalizePhone(sms.from) ?? sms.from.trim();
  if (!number) throw new ValidationError('From is missing');
  const phoneHash = deps.vault.hash('phone', number);
  const person = await findPersonByHash(deps.db, 'phone_hash', phoneHash);
  const keyword = classifySms(sms.body);
  const locale = resolveLocale(person?.locale ?? keyword?.locale ?? 'en');
  const t = deps.i18n.getFixedT(locale, 'inbound');
  const now = deps.clock.now();
  deps.logger.info({ matched: person !== null, keyword: keyword?.keyword ?? null }, 'text received');

  if (keyword?.keyword === 'stop') {
    await recordSmsOptOut(deps.db, phoneHash, keyword.word, now);
    return { kind: 'stop', reply: t('sms.stopped') };
  }
  if (keyword?.keyword === 'start') {
    await removeSmsOptOut(deps.db, phoneHash);
    return { kind: 'start', reply: t('sms.started') };
  }
  if (keyword?.keyword === 'help') {
    const incident = await incidentOf(deps, person);
    const helpline = incident ? helplineFor(incident, locale) : null;
    return {
      kind: 'help',
      reply:
        incident && helpline
          ? t('sms.help', { organisation: incident.organisationName, helpline })
          : t('sms.helpUnknown'),
    };
  }
  await fileInboundReply(deps.db, deps.vault, {
    kind: 'sms_reply',
    phone: number,
    person,
    locale,
    text: sms.body.slice(0, MAX_TEXT),
    ref: refOf('twilio', sms.messageSid),
    at: now,
  });
  return { kind: 'filed', reply: null };
}

export interface InboundEmail {
  from: string;
  /** Every address it was sent to (To, Cc, and the envelope's): one may be our Reply-To. */
  to: string[];
  subject: string | null;
  text: string;
  /** The email's own Message-ID header, when it has one: a resent post files nothing new. */
  messageIdHeader: string | null;
  attachmentsDropped: number;
}

/** The bare address of a From header: `"Ann" <ann@example.com>` → ann@example.com. */
export function bareAddress(header: string): string | null {
  const angled = /<([^<>\s]+)>/.exec(header);
  return normalizeEmail(angled?.[1] ?? header.trim());
}

/**
 * An email reply: filed in the support queue, sealed, linked to the person the reply address names
 * (a notice's Reply-To carries its message id, keyed) or else to whoever holds the sender's address.
 */
export async function receiveEmail(
  deps: Pick<Deps, 'db' | 'vault' | 'clock' | 'config' | 'logger'>,
  email: InboundEmail,
): Promise<{ supportRequestId: number; matched: boolean }> {
  const from = bareAddress(email.from);
  if (!from) throw new ValidationError('from is not an email address');
  const domain = deps.config.inboundEmail?.domain ?? null;
  let person: ReplyingPerson | null = null;
  if (domain) {
    for (const to of email.to) {
      const address = bareAddress(to);
      const messageId = address
        ? messageIdFromReplyAddress(deps.config.lookupHmacKey, domain, address)
        : null;
      person = messageId ? await findPersonByMessage(deps.db, messageId) : null;
      if (person) break;
    }
  }
  person ??= await findPersonByHash(deps.db, 'email_hash', deps.vault.hash('email', from));
  const filed = await fileInboundReply(deps.db, deps.vault, {
    kind: 'email_reply',
    email: from,
    subject: email.subject?.slice(0, 500) || null,
    attachmentsDropped: email.attachmentsDropped,
    person,
    locale: resolveLocale(person?.locale ?? 'en'),
    text: email.text.slice(0, 100_000),
    ref: refOf('email', email.messageIdHeader ?? undefined),
    at: deps.clock.now(),
  });
  deps.logger.info(
    { supportRequestId: filed.id, matched: person !== null, attachmentsDropped: email.attachmentsDropped },
    filed.filed ? 'email reply filed' : 'email reply already filed',
  );
  return { supportRequestId: filed.id, matched: person !== null };
}

/** The answers staff can start from, written in every language (locales/<lng>/inbound.json). */
export const ANSWER_TEMPLATES = ['received', 'helpline', 'checkOnline', 'nothingElse'] as const;
export type AnswerTemplate = (typeof ANSWER_TEMPLATES)[number];

/** Over which channel, to which contact, a support request can be answered; null: it cannot. */
export function answerChannel(request: {
  kind: string;
  phone: string | null;
  replyEmail: string | null;
}): 'sms' | 'email' | null {
  if (request.kind === 'sms_reply' && request.phone) return 'sms';
  if ((request.kind === 'email_reply' || request.kind === 'message') && request.replyEmail) return 'email';
  return null;
}

/** A template in a language, filled with the incident's facts. */
export function renderAnswerTemplate(
  deps: Pick<Deps, 'i18n' | 'config'>,
  template: AnswerTemplate,
  locale: string,
  incident: Incident | null,
): string {
  const t = deps.i18n.getFixedT(locale, 'inbound');
  const organisation = incident?.organisationName ?? '';
  const helpline = incident ? helplineFor(incident, locale) : null;
  const link = incident ? lookupUrl(deps.config.publicBaseUrl, incident.slug) : deps.config.publicBaseUrl;
  if (template === 'helpline' && !helpline) return t('answers.templates.received', { organisation });
  return t(`answers.templates.${template}`, { organisation, helpline, link });
}

/**
 * A staff answer to a reply: written in the person's language (a template, or their own words),
 * stored sealed, then sent by the portal worker over the channel the person wrote on. Refused when
 * the request cannot be answered that way, or the number has since texted STOP.
 */
export async function answerSupportRequest(
  deps: Pick<Deps, 'db' | 'vault' | 'clock' | 'i18n' | 'config' | 'portalQueue'>,
  answer: { requestId: number; staffId: number; text: string | null; template: AnswerTemplate | null },
): Promise<{ replyId: number }> {
  const request = await findSupportRequest(deps.db, deps.vault, answer.requestId);
  if (!request) throw new NotFoundError('There is no such support request.');
  if (request.status === 'closed') throw new ConflictError('This request is closed.');
  const channel = answerChannel(request);
  if (!channel) throw new ConflictError('This request came with no number or address to answer.');
  if (channel === 'sms' && (await smsOptOutOf(deps.db, deps.vault.hash('phone', request.phone!))))
    throw new ConflictError('This number texted STOP: no text can go to it until it texts START.');
  const incident = request.incidentId ? await findIncidentById(deps.db, request.incidentId) : null;
  const body =
    answer.text?.trim() ||
    (answer.template ? renderAnswerTemplate(deps, answer.template, request.locale, incident) : '');
  if (!body) throw new ValidationError('Write an answer or choose one.');
  const replyId = await insertSupportReply(deps.db, deps.vault, {
    supportRequestId: request.id,
    staffId: answer.staffId,
    channel,
    locale: request.locale,
    body: body.slice(0, 5_000),
    at: deps.clock.now(),
  });
  await deps.portalQueue.add(
    PORTAL_JOBS.supportReply,
    { v: 1, supportReplyId: replyId },
    { ...PORTAL_JOB_OPTIONS, jobId: portalJobIds.supportReply(replyId) },
  );
  return { replyId };
}

/**
 * The worker's half: claims the answer (a replay finds it claimed or sent and does nothing), renders
 * it in the person's language and hands it to the channel's adapter, like every portal message.
 * No transaction is open across the provider call.
 */
export async function sendSupportReply(
  deps: Pick<Deps, 'db' | 'vault' | 'i18n' | 'channels' | 'clock' | 'config' | 'logger'>,
  replyId: number,
  attemptsLeft: number,
): Promise<void> {
  const now = deps.clock.now();
  const staleBefore = new Date(now.getTime() - deps.config.sending.staleSendingMs);
  const reply = await claimSupportReply(deps.db, replyId, now, staleBefore);
  if (!reply) return;
  const to = reply.channel === 'sms' ? reply.phoneEnc : reply.replyEmailEnc;
  if (!to) {
    await finishSupportReply(deps.db, reply.id, { status: 'failed', error: 'no contact to answer', at: now });
    return;
  }
  const address = deps.vault.open(to);
  if (reply.channel === 'sms' && (await smsOptOutOf(deps.db, deps.vault.hash('phone', address)))) {
    await finishSupportReply(deps.db, reply.id, {
      status: 'failed',
      error: 'the number texted STOP',
      at: now,
    });
    return;
  }
  const incident = reply.incidentId ? await findIncidentById(deps.db, reply.incidentId) : null;
  const t = deps.i18n.getFixedT(reply.locale, 'inbound');
  const theirSubject = reply.subjectEnc ? deps.vault.open(reply.subjectEnc) : null;
  const subject = theirSubject
    ? /^re:/i.test(theirSubject)
      ? theirSubject
      : `Re: ${theirSubject}`
    : t('answers.subject', { organisation: incident?.organisationName ?? '' });
  const content = simpleNotice({
    channel: reply.channel,
    locale: reply.locale,
    subject: reply.channel === 'email' ? subject : null,
    paragraphs: deps.vault.open(reply.bodyEnc).split(/\n{2,}/),
    link: incident ? lookupUrl(deps.config.publicBaseUrl, incident.slug) : deps.config.publicBaseUrl,
  });
  const started = performance.now();
  try {
    const result = await deps.channels[reply.channel].send({
      messageId: portalMessageId.supportReply(reply.id),
      channel: reply.channel,
      locale: reply.locale,
      largePrint: false,
      to: {
        name: null,
        email: reply.channel === 'email' ? address : null,
        phone: reply.channel === 'sms' ? address : null,
        postalAddress: null,
      },
      content,
    });
    await finishSupportReply(deps.db, reply.id, { status: 'sent', ...result, at: deps.clock.now() });
    deps.logger.info(
      {
        supportReplyId: reply.id,
        channel: reply.channel,
        provider: result.provider,
        ms: Math.round(performance.now() - started),
      },
      'support answer sent',
    );
  } catch (error) {
    // An unknown outcome may have reached them: a second copy of an answer is worse than none, and
    // staff see it failed and can write again.
    const permanent =
      error instanceof ProviderError
        ? !error.retryable || error.outcomeUnknown
        : error instanceof ValidationError;
    const reason = error instanceof Error ? error.message : String(error);
    deps.logger.warn(
      { supportReplyId: reply.id, channel: reply.channel, permanent, reason },
      'support answer failed',
    );
    if (permanent || attemptsLeft <= 0)
      await finishSupportReply(deps.db, reply.id, { status: 'failed', error: reason, at: deps.clock.now() });
    else await finishSupportReply(deps.db, reply.id, { status: 'queued' });
    if (!permanent) throw error;
  }
}
