import twilio from 'twilio';
import { providerErrorFromStatus, ValidationError } from '../platform/errors.js';
import { retryAfterMs } from '../platform/retry-after.js';
import type { MessageStatus } from '../deliveries/status.js';
import type { ChannelAdapter, LookupAnswer, LookupQuery, OutgoingMessage, ProviderEvent } from './channel.js';
import { classifyCallFailure } from './outcome.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  baseUrl: string;
  from: string;
  /** Where Twilio posts status callbacks and fetches TwiML: our public address. */
  publicBaseUrl: string;
  /** Each API request gives up after this long (the SDK's own default is 30 s). */
  timeoutMs: number;
}

export type TwilioClient = ReturnType<typeof twilio>;

export function createTwilioClient(settings: TwilioSettings): TwilioClient {
  const client = twilio(settings.accountSid, settings.authToken, {
    autoRetry: false,
    timeout: settings.timeoutMs,
  });
  // Messages and Calls live on the `api` domain; pointing it elsewhere serves a staging proxy or a test fake.
  client.api.baseUrl = settings.baseUrl;
  keepRetryAfter(client);
  return client;
}

/** A 429 from Twilio, with the wait its `Retry-After` asked for (null: it did not say). */
export class TwilioThrottledError extends Error {
  override name = 'TwilioThrottledError';
  readonly status = 429;
  constructor(
    message: string,
    readonly code: number | string | undefined,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/**
 * The SDK turns an error reply into a RestException from its body alone, dropping the headers and
 * with them a 429's Retry-After. So the client's own HTTP client (built by the SDK with its options)
 * is wrapped to raise a 429 itself, headers read, before the SDK sees it.
 */
function keepRetryAfter(client: TwilioClient): void {
  const http = client.httpClient;
  const request = http.request.bind(http);
  http.request = async (opts) => {
    const response = await request(opts);
    if (response.statusCode !== 429) return response;
    const body = parseBody(response.body);
    const headers = (response.headers ?? {}) as Record<string, string | undefined>;
    throw new TwilioThrottledError(
      typeof body.message === 'string' ? body.message : 'Too Many Requests',
      typeof body.code === 'number' || typeof body.code === 'string' ? body.code : undefined,
      retryAfterMs({ retryAfter: headers['retry-after'] }, Date.now()),
    );
  };
}

function parseBody(body: unknown): Record<string, unknown> {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return {};
    }
  }
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

export function statusCallbackUrl(publicBaseUrl: string, messageId: number): string {
  return `${publicBaseUrl}/webhooks/twilio/status?message=${messageId}`;
}

function senderFields(from: string) {
  return from.startsWith('MG') ? { messagingServiceSid: from } : { from };
}

function recipient(message: OutgoingMessage): string {
  if (!message.to.phone) throw new ValidationError(`message ${message.messageId} has no phone number`);
  return message.to.phone;
}

function toProviderError(error: unknown) {
  const record = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const status = typeof record.status === 'number' ? record.status : undefined;
  const code = typeof record.code === 'number' || typeof record.code === 'string' ? record.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (classifyCallFailure(error) === 'unknown') {
    const errorCode = typeof record.code === 'string' ? record.code : undefined;
    return providerErrorFromStatus('twilio', undefined, `No answer from Twilio: ${message}`, errorCode, {
      outcomeUnknown: true,
    });
  }
  const retryAfter = error instanceof TwilioThrottledError ? error.retryAfterMs : null;
  return providerErrorFromStatus('twilio', status, `Twilio refused the message: ${message}`, code, {
    retryAfterMs: retryAfter,
  });
}

/** Twilio's clock and ours may differ a little; a record this much older than our request may still be it. */
const CLOCK_SKEW_MS = 60_000;

function httpStatus(error: unknown): number | undefined {
  const status =
    typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/** What Twilio says about one of its resources, as the status callback would have said it. */
function lookedUp(
  messageId: number,
  resource: { sid: string; status: string; errorCode?: number | null; answeredBy?: string | null },
  table: Record<string, MessageStatus | null>,
): LookupAnswer {
  return {
    kind: 'found',
    providerMessageId: resource.sid,
    event: {
      provider: 'twilio',
      // The id a status callback for this status carries, so a late callback is a harmless replay.
      providerEventId: `${resource.sid}-${resource.status}`,
      messageId,
      providerMessageId: resource.sid,
      event: resource.status,
      status: table[resource.status] ?? null,
      reason: resource.errorCode ? `Twilio error ${resource.errorCode}` : (resource.answeredBy ?? null),
      occurredAt: null,
      raw: { lookup: true, sid: resource.sid, status: resource.status },
    },
  };
}

/**
 * Fetch by sid when we hold it; otherwise list what went to the number since our request and take
 * the earliest, as ours (the resource does not echo our StatusCallback). Two of our messages to one
 * number, both unknown at once, could be told apart only by their text; that is left for now.
 */
async function lookupOne(
  query: LookupQuery,
  fetchBySid: (sid: string) => Promise<LookupAnswer>,
  listSince: (phone: string, since: Date) => Promise<LookupAnswer | null>,
): Promise<LookupAnswer> {
  if (query.providerMessageId) {
    try {
      return await fetchBySid(query.providerMessageId);
    } catch (error) {
      if (httpStatus(error) === 404) return { kind: 'not_found' };
      throw error;
    }
  }
  if (!query.to.phone) return { kind: 'not_found' };
  return (
    (await listSince(query.to.phone, new Date(query.since.getTime() - CLOCK_SKEW_MS))) ?? {
      kind: 'not_found',
    }
  );
}

/** Lookups in flight at once: Twilio limits concurrent API requests per account. */
const LOOKUP_CONCURRENCY = 10;

async function inTurn<T, R>(items: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += LOOKUP_CONCURRENCY)
    results.push(...(await Promise.all(items.slice(i, i + LOOKUP_CONCURRENCY).map(run))));
  return results;
}

function earliestSince<T extends { dateCreated: Date }>(items: T[], since: Date): T | undefined {
  return items
    .filter((item) => item.dateCreated >= since)
    .sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime())[0];
}

export function createTwilioSms(client: TwilioClient, settings: TwilioSettings): ChannelAdapter {
  return {
    channel: 'sms',
    provider: 'twilio',
    async send(message) {
      try {
        const sent = await client.messages.create({
          to: recipient(message),
          ...senderFields(settings.from),
          body: message.content.text,
          statusCallback: statusCallbackUrl(settings.publicBaseUrl, message.messageId),
        });
        return { provider: 'twilio', providerMessageId: sent.sid };
      } catch (error) {
        throw toProviderError(error);
      }
    },
    async lookup(queries) {
      const byService = settings.from.startsWith('MG');
      return inTurn(queries, (query) =>
        lookupOne(
          query,
          async (sid) => lookedUp(query.messageId, await client.messages(sid).fetch(), SMS_STATUS),
          async (phone, since) => {
            // Not filtered on DateSent at Twilio: a message it accepted but still holds in a queue
            // (behind a messaging service's throughput) has none yet, and would look unsent. The
            // newest 20 to the number, filtered on when Twilio created them, as calls are.
            const listed = await client.messages.list({
              to: phone,
              ...(byService ? {} : { from: settings.from }),
              limit: 20,
            });
            const mine = earliestSince(
              listed.filter((m) => !byService || m.messagingServiceSid === settings.from),
              since,
            );
            return mine ? lookedUp(query.messageId, mine, SMS_STATUS) : null;
          },
        ),
      );
    },
  };
}

export function createTwilioVoice(client: TwilioClient, settings: TwilioSettings): ChannelAdapter {
  return {
    channel: 'voice',
    provider: 'twilio',
    async send(message) {
      try {
        const call = await client.calls.create({
          to: recipient(message),
          from: settings.from,
          url: `${settings.publicBaseUrl}/webhooks/twilio/voice?message=${message.messageId}`,
          statusCallback: statusCallbackUrl(settings.publicBaseUrl, message.messageId),
          statusCallbackEvent: ['completed'],
          // Waits for the greeting to end, so a machine gets our short message after its beep.
          machineDetection: 'DetectMessageEnd',
        });
        return { provider: 'twilio', providerMessageId: call.sid };
      } catch (error) {
        throw toProviderError(error);
      }
    },
    async lookup(queries) {
      return inTurn(queries, (query) =>
        lookupOne(
          query,
          async (sid) => lookedUp(query.messageId, await client.calls(sid).fetch(), CALL_STATUS),
          async (phone, since) => {
            // Calls are not filtered by creation date; a queued call has no start time yet.
            const listed = await client.calls.list({ to: phone, from: settings.from, limit: 20 });
            const mine = earliestSince(listed, since);
            return mine ? lookedUp(query.messageId, mine, CALL_STATUS) : null;
          },
        ),
      );
    },
  };
}

/** X-Twilio-Signature over the full public URL and the posted parameters, checked by Twilio's SDK. */
export function verifyTwilioSignature(options: {
  authToken: string;
  signature: string | undefined;
  url: string;
  params: Record<string, string>;
}): boolean {
  if (!options.signature) return false;
  return twilio.validateRequest(options.authToken, options.signature, options.url, options.params);
}

const SMS_STATUS: Record<string, MessageStatus | null> = {
  accepted: null,
  scheduled: null,
  queued: null,
  sending: null,
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
  read: 'delivered',
};

const CALL_STATUS: Record<string, MessageStatus | null> = {
  queued: null,
  initiated: null,
  ringing: null,
  'in-progress': null,
  completed: 'answered',
  busy: 'busy',
  'no-answer': 'no_answer',
  failed: 'failed',
  canceled: 'failed',
};

/** Translates a verified status callback (SMS or call). */
export function parseTwilioStatus(messageId: number | null, params: Record<string, string>): ProviderEvent {
  const isCall = typeof params.CallSid === 'string';
  const sid = params.CallSid ?? params.MessageSid ?? params.SmsSid;
  const event = params.CallStatus ?? params.MessageStatus ?? params.SmsStatus;
  if (!sid || !event) throw new ValidationError('status callback lacks a sid or a status');
  const table = isCall ? CALL_STATUS : SMS_STATUS;
  const reason = params.ErrorCode ? `Twilio error ${params.ErrorCode}` : (params.AnsweredBy ?? null);
  return {
    provider: 'twilio',
    // Twilio callbacks carry no event id; one sid reaches each status once, so sid + status is unique.
    providerEventId: `${sid}-${event}`,
    messageId,
    providerMessageId: sid,
    event,
    status: table[event] ?? null,
    reason,
    occurredAt: null,
    raw: params,
  };
}
