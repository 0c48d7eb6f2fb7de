import crypto from 'node:crypto';
import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { resolveLocale, type I18n } from '../platform/i18n.js';
import { localizedEntry, localizedText, type Incident } from '../incidents/store.js';
import { loadRecipient, type Recipient } from '../people/store.js';
import { isCodeMessageKind, renderNotice, type CodeOfferFacts, type MessageKind } from '../notices/render.js';
import { loadNoticeContent, overridesFor, type NoticeContent } from './notice-content.js';
import type { OutgoingMessage } from '../channels/channel.js';
import type { Channel } from '../channels/kinds.js';

export interface MessageToSend {
  messageId: number;
  campaignId: number;
  kind: MessageKind;
  channel: Channel;
  recipient: Recipient;
}

export interface ComposeDeps {
  db: Queryable;
  vault: Vault;
  i18n: I18n;
  publicBaseUrl: string;
  /** Signs unsubscribe links (the workers' deps carry the whole config). */
  config?: { lookupHmacKey: Buffer };
  /**
   * What a code offer or reminder says about the code (src/codes), or null for other campaigns.
   * Passed in so campaigns need not know about code pools; without it such messages carry a link only.
   */
  codeOffer?: (input: {
    campaignId: number;
    personId: number;
    locale: string;
  }) => Promise<CodeOfferFacts | null>;
}

/** Where a person checks their details and reads the incident; no personal data in it. */
export function lookupUrl(publicBaseUrl: string, incidentSlug: string): string {
  return `${publicBaseUrl}/incidents/${incidentSlug}`;
}

/** A capability for one person to stop update emails: their row id and a keyed MAC of it, nothing else. */
export function unsubscribeToken(hmacKey: Buffer, personId: number): string {
  const mac = crypto
    .createHmac('sha256', hmacKey)
    .update(`unsubscribe:${personId}`)
    .digest('base64url')
    .slice(0, 22);
  return `${personId}.${mac}`;
}

export function verifyUnsubscribeToken(hmacKey: Buffer, token: string): number | null {
  const personId = Number(token.split('.')[0]);
  if (!Number.isSafeInteger(personId) || personId <= 0) return null;
  const expected = Buffer.from(unsubscribeToken(hmacKey, personId));
  const given = Buffer.from(token);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? personId : null;
}

export function unsubscribeUrl(publicBaseUrl: string, hmacKey: Buffer, personId: number): string {
  return `${publicBaseUrl}/notices/unsubscribe/${unsubscribeToken(hmacKey, personId)}`;
}

/** The helpline for a language: the incident's own for it, else its default language's. */
export function helplineFor(incident: Incident, locale: string): string | null {
  return localizedText(incident.helplines, locale, incident.defaultLocale);
}

/**
 * Builds what one person receives: their language, their data types, their reference code. The
 * incident's content is read here unless the caller has it already (the send worker keeps it).
 */
export async function composeMessage(
  deps: ComposeDeps,
  message: MessageToSend & { updateId: number | null },
  preloaded?: NoticeContent | null,
): Promise<OutgoingMessage> {
  const { recipient } = message;
  const shared = preloaded ?? (await loadNoticeContent(deps.db, recipient.incidentId));
  if (!shared) throw new Error(`incident ${recipient.incidentId} of message ${message.messageId} is gone`);
  const { incident } = shared;
  const locale = resolveLocale(recipient.locale);
  const update = message.updateId ? shared.updates.find((u) => u.id === message.updateId) : undefined;
  const updateEntry = update ? localizedEntry(update.texts, locale, incident.defaultLocale) : null;
  const updateText = updateEntry?.value ?? null;
  // Only the incident's wording in this very language: an English paragraph in a French letter helps nobody.
  const wording = incident.texts[locale] ?? null;
  const overrides = overridesFor(shared, locale, recipient.segment);
  const codeOffer =
    isCodeMessageKind(message.kind) && deps.codeOffer
      ? await deps.codeOffer({ campaignId: message.campaignId, personId: recipient.id, locale })
      : null;
  const content = renderNotice(deps.i18n.t, locale, message.kind, message.channel, {
    organisation: incident.organisationName,
    name: recipient.name,
    referenceCode: recipient.referenceCode,
    lookupUrl: lookupUrl(deps.publicBaseUrl, incident.slug),
    dataTypes: recipient.exposedDataTypes.length > 0 ? recipient.exposedDataTypes : incident.dataTypes,
    helpline: helplineFor(incident, locale),
    incidentWording: wording,
    overrides,
    codeOffer,
    ...(updateText
      ? { updateTitle: updateText.title, updateBody: updateText.body, updateLocale: updateEntry?.locale }
      : {}),
    ...(message.kind === 'update' && deps.config
      ? { unsubscribeUrl: unsubscribeUrl(deps.publicBaseUrl, deps.config.lookupHmacKey, recipient.id) }
      : {}),
  });
  return {
    messageId: message.messageId,
    channel: message.channel,
    locale,
    largePrint: recipient.accessibilityNeeds.includes('large_print'),
    to: {
      name: recipient.name,
      email: recipient.email,
      phone: recipient.phone,
      postalAddress: recipient.postalAddress,
    },
    content,
  };
}

/**
 * Composes a message again from its stored row, for a provider that fetches content after the send
 * (Twilio asks for the call's TwiML when the person picks up). Null when the message is unknown.
 */
export async function composeStoredMessage(
  deps: ComposeDeps,
  messageId: number,
): Promise<OutgoingMessage | null> {
  const { rows } = await deps.db.query<{
    id: number;
    campaign_id: number;
    person_id: number;
    channel: Channel | null;
    kind: MessageKind;
    update_id: number | null;
  }>(
    `SELECT m.id, m.campaign_id, m.person_id, m.channel, c.kind, c.update_id
     FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE m.id = $1`,
    [messageId],
  );
  const row = rows[0];
  if (!row?.channel) return null;
  const recipient = await loadRecipient(deps.db, deps.vault, row.person_id);
  if (!recipient) return null;
  return composeMessage(deps, {
    messageId: row.id,
    campaignId: row.campaign_id,
    kind: row.kind,
    channel: row.channel,
    recipient,
    updateId: row.update_id,
  });
}
