import crypto from 'node:crypto';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { providerErrorFromStatus, ValidationError } from '../platform/errors.js';
import { retryAfterMs } from '../platform/retry-after.js';
import type { MessageStatus } from '../deliveries/status.js';
import { renderEmailHtml, unsubscribeHeaders } from '../notices/email.js';
import type { ChannelAdapter, ProviderEvent } from './channel.js';

/** Our message id travels in SendGrid's custom args: the only thing we put there, never personal data. */
export const MESSAGE_ID_ARG = 'candor_message_id';

export interface SendgridSettings {
  apiKey: string;
  baseUrl: string;
  from: string;
}

export function createSendgridEmail(settings: SendgridSettings): ChannelAdapter {
  const client = new Client();
  client.setApiKey(settings.apiKey);
  // After setApiKey, which resets the base URL to the account's region.
  client.setDefaultRequest('baseUrl', settings.baseUrl);
  const mail = new MailService();
  mail.setClient(client);

  return {
    channel: 'email',
    provider: 'sendgrid',
    async send(message) {
      const { email } = message.to;
      if (!email) throw new ValidationError(`message ${message.messageId} has no email address`);
      try {
        const [response] = await mail.send({
          to: message.to.name ? { email, name: message.to.name } : email,
          from: settings.from,
          subject: message.content.subject ?? '',
          text: message.content.text,
          html: renderEmailHtml(message.content),
          headers: unsubscribeHeaders(message.content),
          customArgs: { [MESSAGE_ID_ARG]: String(message.messageId) },
          // People in a breach are wary of tracking links and pixels; we do not use them.
          trackingSettings: {
            clickTracking: { enable: false, enableText: false },
            openTracking: { enable: false },
          },
        });
        const headers = response.headers as Record<string, string | undefined>;
        const providerMessageId = headers['x-message-id'] ?? '';
        return { provider: 'sendgrid', providerMessageId };
      } catch (error) {
        throw toProviderError(error);
      }
    },
  };
}

function toProviderError(error: unknown) {
  const status =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number'
      ? error.code
      : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const retryAfter = status === 429 ? retryAfterMs(throttleHeaders(error), Date.now()) : null;
  return providerErrorFromStatus(
    'sendgrid',
    status,
    `SendGrid refused the message: ${message}`,
    undefined,
    retryAfter,
  );
}

/** The SDK's ResponseError keeps the reply's headers (lower-cased by its HTTP client) on `response`. */
function throttleHeaders(error: unknown): { retryAfter?: string; rateLimitReset?: string } {
  const response =
    typeof error === 'object' && error !== null && 'response' in error ? error.response : undefined;
  const headers =
    typeof response === 'object' && response !== null && 'headers' in response ? response.headers : undefined;
  if (typeof headers !== 'object' || headers === null) return {};
  const read = (name: string) => {
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
  };
  const retryAfter = read('retry-after');
  const rateLimitReset = read('x-ratelimit-reset');
  return {
    ...(retryAfter === undefined ? {} : { retryAfter }),
    ...(rateLimitReset === undefined ? {} : { rateLimitReset }),
  };
}

/**
 * SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp + raw body. The public key
 * is the base64 DER key SendGrid shows in its settings. Node's own crypto verifies it.
 */
export function verifySendgridSignature(options: {
  publicKey: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
}): boolean {
  if (!options.signature || !options.timestamp) return false;
  try {
    const key = crypto.createPublicKey({
      key: Buffer.from(options.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const signed = Buffer.concat([Buffer.from(options.timestamp, 'utf8'), options.rawBody]);
    return crypto.verify('sha256', signed, key, Buffer.from(options.signature, 'base64'));
  } catch {
    return false;
  }
}

const SENDGRID_STATUS: Record<string, MessageStatus | null> = {
  processed: 'sent',
  delivered: 'delivered',
  bounce: 'bounced',
  dropped: 'failed',
  deferred: null,
  open: null,
  click: null,
  spamreport: null,
  unsubscribe: null,
  group_unsubscribe: null,
  group_resubscribe: null,
};

/** Translates a verified Event Webhook body. Throws ValidationError for a body that is not an event list. */
export function parseSendgridEvents(body: unknown): ProviderEvent[] {
  if (!Array.isArray(body)) throw new ValidationError('SendGrid events must be a JSON array');
  return body.map((item: unknown, index): ProviderEvent => {
    if (typeof item !== 'object' || item === null)
      throw new ValidationError(`event ${index} is not an object`);
    const event = item as Record<string, unknown>;
    const eventId = event.sg_event_id;
    const type = event.event;
    if (typeof eventId !== 'string' || typeof type !== 'string') {
      throw new ValidationError(`event ${index} lacks sg_event_id or event`);
    }
    const messageId = Number(event[MESSAGE_ID_ARG]);
    const sgMessageId =
      typeof event.sg_message_id === 'string' ? (event.sg_message_id.split('.')[0] ?? null) : null;
    const reason =
      typeof event.reason === 'string' ? event.reason : typeof event.type === 'string' ? event.type : null;
    return {
      provider: 'sendgrid',
      providerEventId: eventId,
      messageId: Number.isSafeInteger(messageId) && messageId > 0 ? messageId : null,
      providerMessageId: sgMessageId,
      event: type,
      status: SENDGRID_STATUS[type] ?? null,
      reason,
      occurredAt: typeof event.timestamp === 'number' ? new Date(event.timestamp * 1000) : null,
      raw: event,
    };
  });
}
