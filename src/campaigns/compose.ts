import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { resolveLocale, type I18n } from '../platform/i18n.js';
import { findIncidentById, listIncidentUpdates, localizedText } from '../incidents/store.js';
import { loadRecipient, type Recipient } from '../people/store.js';
import { renderNotice, type MessageKind } from '../notices/render.js';
import type { OutgoingMessage } from '../channels/channel.js';
import type { Channel } from './channel-policy.js';

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
}

/** Where a person checks their details and reads the incident; no personal data in it. */
export function lookupUrl(publicBaseUrl: string, incidentSlug: string): string {
  return `${publicBaseUrl}/incidents/${incidentSlug}`;
}

/** Builds what one person receives: their language, their data types, their reference code. */
export async function composeMessage(
  deps: ComposeDeps,
  message: MessageToSend & { updateId: number | null },
): Promise<OutgoingMessage> {
  const { recipient } = message;
  const incident = await findIncidentById(deps.db, recipient.incidentId);
  if (!incident) throw new Error(`incident ${recipient.incidentId} of message ${message.messageId} is gone`);
  const locale = resolveLocale(recipient.locale);
  const update = message.updateId
    ? (await listIncidentUpdates(deps.db, incident.id)).find((u) => u.id === message.updateId)
    : undefined;
  const updateText = update ? localizedText(update.texts, locale, incident.defaultLocale) : null;
  const content = renderNotice(deps.i18n.t, locale, message.kind, message.channel, {
    organisation: incident.organisationName,
    name: recipient.name,
    referenceCode: recipient.referenceCode,
    lookupUrl: lookupUrl(deps.publicBaseUrl, incident.slug),
    dataTypes: recipient.exposedDataTypes.length > 0 ? recipient.exposedDataTypes : incident.dataTypes,
    helpline: localizedText(incident.helplines, locale, incident.defaultLocale),
    ...(updateText ? { updateTitle: updateText.title, updateBody: updateText.body } : {}),
  });
  return {
    messageId: message.messageId,
    channel: message.channel,
    locale,
    to: {
      name: recipient.name,
      email: recipient.email,
      phone: recipient.phone,
      postalAddress: recipient.postalAddress,
    },
    content,
  };
}

export async function loadMessageRecipient(deps: ComposeDeps, personId: number): Promise<Recipient> {
  const recipient = await loadRecipient(deps.db, deps.vault, personId);
  if (!recipient) throw new Error(`person ${personId} is gone (purged?)`);
  return recipient;
}
