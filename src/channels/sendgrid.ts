import crypto from 'node:crypto';
import { Client } from '@sendgrid/client';
import type { ClientRequest } from '@sendgrid/client/src/request.js';
import { MailService } from '@sendgrid/mail';
import helpers from '@sendgrid/helpers';
import { providerErrorFromStatus, ValidationError } from '../platform/errors.js';
import { retryAfterMs } from '../platform/retry-after.js';
import type { MessageStatus } from '../deliveries/status.js';
import { renderEmailHtml, unsubscribeHeaders } from '../notices/email.js';
import {
  RejectedRecipientsError,
  type ChannelAdapter,
  type LookupAnswer,
  type LookupQuery,
  type OutgoingBatch,
  type ProviderEvent,
} from './channel.js';
import { classifyCallFailure } from './outcome.js';

/** Our message id travels in SendGrid's custom args: the only thing we put there, never personal data. */
export const MESSAGE_ID_ARG = 'candor_message_id';

/** SendGrid's mail/send takes at most this many personalizations per request. */
export const SENDGRID_MAX_PERSONALIZATIONS = 1_000;

/** Where a 400 names one personalization: `personalizations.3.to.0.email`. */
const PERSONALIZATION_FIELD = /^personalizations\.(\d+)\./;

export interface SendgridSettings {
  apiKey: string;
  baseUrl: string;
  from: string;
  /** Each API request gives up after this long (axios, under the SDK, has no time-out by default). */
  timeoutMs: number;
  /** How long Email Activity may take to list a message it accepted (its "not found" is unreliable until then). */
  activityLagMs?: number;
  /** Emails per request for campaigns (`sendBatch`); 1 or absent: each email on its own. */
  batchSize?: number;
  /** The Reply-To for a message, when replies come back to Candor (INBOUND_EMAIL_DOMAIN). */
  replyTo?: (messageId: number) => string | null;
}

export function createSendgridEmail(settings: SendgridSettings): ChannelAdapter {
  const client = new Client();
  client.setApiKey(settings.apiKey);
  // After setApiKey, which resets the base URL to the account's region.
  client.setDefaultRequest('baseUrl', settings.baseUrl);
  // The SDK hands its default request to axios as it is; its typings leave out axios's `timeout`.
  const timeout: ClientRequest & { timeout: number } = { url: '', timeout: settings.timeoutMs };
  client.setDefaultRequest(timeout);
  const mail = new MailService();
  mail.setClient(client);
  const from = new helpers.classes.EmailAddress(settings.from).toJSON();
  // A Reply-To per message (replies come back to Candor) cannot ride in a personalization: SendGrid
  // reserves that header. Then every email goes on its own. No inbound domain: null for every id.
  const batchSize = Math.min(SENDGRID_MAX_PERSONALIZATIONS, settings.batchSize ?? 1);
  const batchable = batchSize > 1 && !settings.replyTo?.(1);

  async function sendBatch(batch: OutgoingBatch) {
    if (batch.recipients.length > batchSize)
      throw new ValidationError(`a batch holds at most ${batchSize} recipients`);
    const body = {
      personalizations: batch.recipients.map((recipient) => ({
        to: [
          recipient.to.name
            ? { email: recipient.to.email, name: recipient.to.name }
            : { email: recipient.to.email },
        ],
        substitutions: recipient.substitutions,
        ...(Object.keys(recipient.headers).length > 0 ? { headers: recipient.headers } : {}),
        custom_args: { [MESSAGE_ID_ARG]: String(recipient.messageId) },
      })),
      from,
      subject: batch.subject,
      content: [
        { type: 'text/plain', value: batch.text },
        { type: 'text/html', value: batch.html },
      ],
      tracking_settings: {
        click_tracking: { enable: false, enable_text: false },
        open_tracking: { enable: false },
      },
    };
    try {
      const [response] = await client.request({ method: 'POST', url: '/v3/mail/send', body });
      const headers = response.headers as Record<string, string | undefined>;
      return { provider: 'sendgrid', providerMessageId: headers['x-message-id'] ?? '' };
    } catch (error) {
      const rejected = responseStatus(error) === 400 ? rejectedPersonalizations(error) : [];
      if (rejected.length > 0)
        throw new RejectedRecipientsError(
          `SendGrid refused ${rejected.length} recipient(s) of the batch`,
          'sendgrid',
          rejected,
        );
      throw toProviderError(error);
    }
  }

  return {
    channel: 'email',
    provider: 'sendgrid',
    // The Email Activity index often lags by minutes: a message it has not listed yet may well be out.
    lookupLagMs: settings.activityLagMs ?? SENDGRID_ACTIVITY_LAG_MS,
    ...(batchable ? { sendBatch, maxBatch: batchSize } : {}),
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
          ...(settings.replyTo?.(message.messageId) ? { replyTo: settings.replyTo(message.messageId)! } : {}),
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
    async lookup(queries) {
      const answers = new Map<LookupQuery, LookupAnswer>();
      for (const batch of activityBatches(queries)) {
        let body: unknown;
        try {
          const [response] = await client.request({
            method: 'GET',
            url: '/v3/messages',
            qs: { query: activityQuery(batch), limit: 1000 },
          });
          body = response.body;
        } catch (error) {
          // The Email Activity API is a paid add-on, and an API key needs its permission: without
          // them SendGrid cannot be asked at all, which is not the same as "no such message".
          const status = responseStatus(error);
          if (status === 403 || status === 404) return queries.map(() => ({ kind: 'unavailable' }));
          throw error;
        }
        const found = activityMessages(body);
        for (const query of batch) answers.set(query, matchActivity(query, found));
      }
      return queries.map((query) => answers.get(query) ?? { kind: 'not_found' });
    },
  };
}

function responseStatus(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number'
    ? error.code
    : undefined;
}

/** The personalizations a 400 names (`errors[].field`), each once, in order. */
function rejectedPersonalizations(error: unknown): number[] {
  const response =
    typeof error === 'object' && error !== null && 'response' in error ? error.response : undefined;
  const body =
    typeof response === 'object' && response !== null && 'body' in response ? response.body : undefined;
  const errors =
    typeof body === 'object' && body !== null && 'errors' in body && Array.isArray(body.errors)
      ? (body.errors as unknown[])
      : [];
  const indexes = errors.flatMap((item) => {
    const field = typeof item === 'object' && item !== null && 'field' in item ? item.field : undefined;
    const match = typeof field === 'string' ? PERSONALIZATION_FIELD.exec(field) : null;
    return match ? [Number(match[1])] : [];
  });
  return [...new Set(indexes)].sort((a, b) => a - b);
}

function toProviderError(error: unknown) {
  const status = responseStatus(error);
  const message = error instanceof Error ? error.message : String(error);
  if (classifyCallFailure(error) === 'unknown') {
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
    return providerErrorFromStatus('sendgrid', undefined, `No answer from SendGrid: ${message}`, code, {
      outcomeUnknown: true,
    });
  }
  const retryAfter = status === 429 ? retryAfterMs(throttleHeaders(error), Date.now()) : null;
  return providerErrorFromStatus('sendgrid', status, `SendGrid refused the message: ${message}`, undefined, {
    retryAfterMs: retryAfter,
  });
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

/** The Email Activity API allows a few requests a minute, so many messages go in one query. */
const ACTIVITY_BATCH = 50;

/**
 * Batches whose results can be told apart: the activity list does not echo custom args, so a result
 * is matched by its id (when we hold it) or its recipient, and no address appears twice in a batch.
 */
function activityBatches(queries: LookupQuery[]): LookupQuery[][] {
  const batches: { queries: LookupQuery[]; emails: Set<string> }[] = [];
  for (const query of queries) {
    const email = (query.to.email ?? '').toLowerCase();
    let batch = batches.find((b) => b.queries.length < ACTIVITY_BATCH && !b.emails.has(email));
    if (!batch) batches.push((batch = { queries: [], emails: new Set() }));
    batch.queries.push(query);
    batch.emails.add(email);
  }
  return batches.map((b) => b.queries);
}

/** Our message ids are integers, so they go into the query language as they are. */
function activityQuery(batch: LookupQuery[]): string {
  return batch.map((q) => `unique_args['${MESSAGE_ID_ARG}']="${q.messageId}"`).join(' OR ');
}

interface ActivityMessage {
  msgId: string;
  toEmail: string;
  status: string;
}

function activityMessages(body: unknown): ActivityMessage[] {
  const list =
    typeof body === 'object' && body !== null && 'messages' in body && Array.isArray(body.messages)
      ? (body.messages as unknown[])
      : [];
  return list.flatMap((item) => {
    if (typeof item !== 'object' || item === null) return [];
    const record = item as Record<string, unknown>;
    const { msg_id: msgId, to_email: toEmail, status } = record;
    return typeof msgId === 'string' && typeof status === 'string'
      ? [{ msgId, toEmail: typeof toEmail === 'string' ? toEmail : '', status }]
      : [];
  });
}

/** The activity feed's summary status, in our words; `not_delivered` covers bounces, blocks and drops. */
const ACTIVITY_STATUS: Record<string, MessageStatus | null> = {
  processed: 'sent',
  delivered: 'delivered',
  not_delivered: 'failed',
};

function matchActivity(query: LookupQuery, found: ActivityMessage[]): LookupAnswer {
  const email = (query.to.email ?? '').toLowerCase();
  const mine = query.providerMessageId
    ? found.find(
        (m) => m.msgId.startsWith(`${query.providerMessageId}.`) || m.msgId === query.providerMessageId,
      )
    : found.find((m) => m.toEmail.toLowerCase() === email);
  if (!mine) return { kind: 'not_found' };
  const providerMessageId = mine.msgId.split('.')[0] ?? mine.msgId;
  return {
    kind: 'found',
    providerMessageId,
    event: {
      provider: 'sendgrid',
      providerEventId: `lookup-${mine.msgId}-${mine.status}`,
      messageId: query.messageId,
      providerMessageId,
      event: mine.status,
      status: ACTIVITY_STATUS[mine.status] ?? null,
      reason: mine.status === 'not_delivered' ? 'SendGrid reports it not delivered' : null,
      occurredAt: null,
      raw: { lookup: true, msg_id: mine.msgId, status: mine.status },
    },
  };
}

/**
 * The webhook's public key, parsed once: parsing the DER on every POST cost several times as much
 * as the signature check itself (bench/webhooks.bench.ts prints the check's cost). Keyed by the
 * configured text, so a changed key is parsed afresh.
 */
const parsedKeys = new Map<string, crypto.KeyObject>();
function webhookKey(publicKey: string): crypto.KeyObject {
  let key = parsedKeys.get(publicKey);
  if (!key) {
    key = crypto.createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    parsedKeys.set(publicKey, key);
  }
  return key;
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
    const key = webhookKey(options.publicKey);
    const signed = Buffer.concat([Buffer.from(options.timestamp, 'utf8'), options.rawBody]);
    return crypto.verify('sha256', signed, key, Buffer.from(options.signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Whether a signed batch's timestamp (Unix seconds, the signed header) is recent: a batch captured
 * once must not be replayable days later. Pure; a clock a little ahead of ours is allowed the same.
 */
/** How long SendGrid's Email Activity may take to list a message it accepted. */
export const SENDGRID_ACTIVITY_LAG_MS = 30 * 60_000;

export function sendgridTimestampIsFresh(
  timestamp: string | undefined,
  now: Date,
  maxAgeSeconds: number,
): boolean {
  const signedAt = Number(timestamp);
  if (!Number.isFinite(signedAt)) return false;
  return Math.abs(now.getTime() / 1000 - signedAt) <= maxAgeSeconds;
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
