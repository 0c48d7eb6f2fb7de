/**
 * A fake of the two delivery providers Candor talks to, for tests: SendGrid's v3 Mail Send API and Twilio's
 * REST API (Messages and Calls), served over loopback HTTP so that the OFFICIAL SDKs (@sendgrid/mail,
 * twilio) work against it unchanged once their base URL points here.
 *
 * It records every request it receives, answers as the provider would (or with an error chosen by the test
 * through setBehaviour) and then posts delivery receipts back, signed exactly as the real providers sign them:
 *  - SendGrid Signed Event Webhook: ECDSA P-256 / SHA-256 over (timestamp + raw body), base64 DER signature,
 *    headers X-Twilio-Email-Event-Webhook-Signature / -Timestamp; public key exported as base64 DER SPKI.
 *  - Twilio status callbacks: X-Twilio-Signature = base64(HMAC-SHA1(authToken, url + sorted name/value pairs)).
 *
 * Notes on fidelity (deliberate choices, documented here so tests can rely on them):
 *  - `behaviour` runs after the request has been appended to `requests` (so it may count earlier attempts).
 *    Requests the fake rejects itself (bad auth, malformed body) are recorded too but never reach `behaviour`.
 *  - `providerMessageId` is '' for every request that did not get a 2xx reply (no id was returned).
 *  - Twilio form bodies are recorded as Record<string, string>; a repeated field (the SDK repeats
 *    StatusCallbackEvent for each value) is recorded with its values joined by a single space.
 *  - SendGrid: one event per `to` recipient of each personalization, all events of one request in one POST,
 *    each with its own sg_message_id (`<X-Message-Id>.filterdrecv-…`). The raw body ends with "\r\n", as real
 *    SendGrid posts do, so a receiver that verifies a re-serialised body (instead of the raw bytes) fails.
 *    The webhook URL is read when the receipt is due; if none is set by then, no receipt is posted.
 *  - Twilio: one callback per request, to its StatusCallback; none if the request had no StatusCallback.
 *  - A receipt post that fails at the network level is recorded in receiptsPosted with status 0. No retries.
 *  - close() cancels receipts not yet due and waits for the ones already in flight.
 *  - Lookups: the fake keeps every message it accepted, with the status its receipt reports (set when
 *    the receipt is due, whether or not it is posted; 'sent'/'queued'/'processed' when there is none).
 *    It answers Twilio's GET Messages/{Sid}.json, Calls/{Sid}.json, Messages.json?To=&From=&DateSent>=
 *    and Calls.json?To=&From=, and SendGrid's Email Activity GET /v3/messages?query=… for
 *    unique_args['name']="value" clauses joined by OR (403 once setSendgridActivity(false)).
 *    Lookups are recorded in `lookups`, never in `requests`.
 *  - `delayMs` on an accepted outcome holds the reply that long, then accepts (even if the client has
 *    given up by then): the provider that hangs past the SDK's time-out and still takes the message.
 */
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeProviderKind = 'sendgrid' | 'twilio-sms' | 'twilio-voice';

export interface RecordedRequest {
  kind: FakeProviderKind;
  /** Date.now() when received */
  receivedAt: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON (sendgrid) or parsed form object (twilio, Record<string,string>) */
  body: unknown;
  /** id the fake returned (SendGrid: X-Message-Id header value; Twilio: sid); '' when the reply was an error */
  providerMessageId: string;
}

/**
 * One email the fake SendGrid accepted: one per personalization, with its `substitutions` applied to
 * the subject, text and HTML (one pass, as SendGrid does), its own headers and custom args.
 */
export interface SendgridMessage {
  xMessageId: string;
  /** The personalization's position in its request. */
  index: number;
  to: string;
  toName: string | null;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  customArgs: Record<string, string>;
}

/** What the fake does with one request. Default: accept, then report success as the provider would ('delivered'; a call 'completed', answered by a human). */
export type FakeOutcome =
  | {
      reply: 'accept';
      receipt?: FakeReceipt | null;
      /**
       * SendGrid only: each recipient's own receipt (SendGrid reports every personalization on its
       * own), in place of `receipt`; null = none for that recipient. For a behaviour about one
       * person that must hold whether or not their email shares a request (SENDGRID_BATCH_SIZE).
       */
      receiptFor?: (to: string) => FakeReceipt | null;
      receiptDelayMs?: number;
      /** Hold the reply this long before accepting (the client may time out first; the message is kept). */
      delayMs?: number;
      /** false: the message reaches the receipt's status but the callback is lost (never posted). */
      postReceipt?: boolean;
    } // 202 (sendgrid) / 201 (twilio); receipt null = none
  | { reply: 'error'; status: number; message?: string; headers?: Record<string, string> } // e.g. 400, 429 (headers: { 'Retry-After': '2' }), 500
  /** Hold the request this long, then cut the connection without keeping the message (the provider lost it). */
  | { reply: 'drop'; delayMs?: number };

/** Receipt statuses in the provider's own vocabulary:
 *  sendgrid: 'processed' | 'delivered' | 'bounce' | 'dropped' | 'deferred'
 *  twilio-sms: 'sent' | 'delivered' | 'undelivered' | 'failed'
 *  twilio-voice: 'completed' | 'no-answer' | 'busy' | 'failed'  (for 'completed' include AnsweredBy if given) */
export interface FakeReceipt {
  status: string;
  answeredBy?: string;
}

export interface FakeProviderOptions {
  twilioAccountSid: string;
  twilioAuthToken: string;
  /** Where SendGrid's Event Webhook posts (in real SendGrid this is account configuration). Optional; may also be set later with setSendgridWebhookUrl. */
  sendgridWebhookUrl?: string;
  /** false: keep no SendgridMessage (a benchmark of 100,000 emails would hold every body). Default true. */
  keepSendgridMessages?: boolean;
}

export interface FakeProviders {
  /** e.g. http://127.0.0.1:43123 — used as both SENDGRID_API_BASE_URL and TWILIO_API_BASE_URL */
  baseUrl: string;
  /** base64 DER SPKI of the P-256 public key (the format SendGrid shows in its settings) */
  sendgridWebhookPublicKey: string;
  requests: RecordedRequest[];
  /** Every email SendGrid accepted, one per personalization (see SendgridMessage). */
  sendgridMessages: SendgridMessage[];
  /** The next `count` mail/send requests that pass validation fail with `status` (default 503). */
  failNextSendgrid(count: number, status?: number): void;
  setBehaviour(fn: (req: RecordedRequest) => FakeOutcome): void;
  setSendgridWebhookUrl(url: string): void;
  /** resolves when predicate(requests) is true; rejects with a clear message after timeoutMs (default 10000) */
  waitFor(predicate: (requests: RecordedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Event Webhook POST for `events` as the fake posts it: the raw body and its signed headers (for replaying receipts by hand). */
  signSendgridEvents(
    events: Record<string, unknown>[],
    signedAt?: Date,
  ): { body: string; headers: Record<string, string> };
  /** resolves when every scheduled receipt has been posted (and its response received) */
  settled(): Promise<void>;
  /** responses Candor gave to each receipt post (status 0 = the post failed at the network level) */
  receiptsPosted: { url: string; status: number }[];
  /** Lookups received (Twilio fetch/list, SendGrid activity), in order. */
  lookups: { kind: FakeProviderKind; path: string; query: string }[];
  /** false: SendGrid's Email Activity API answers 403, as for an account without the add-on. */
  setSendgridActivity(available: boolean): void;
  /** The status the fake holds for an accepted message (Twilio sid or SendGrid X-Message-Id). */
  statusOf(providerMessageId: string): string | undefined;
  close(): Promise<void>;
}

/** A message the fake accepted, as its lookups report it. */
interface StoredMessage {
  kind: FakeProviderKind;
  id: string;
  /** SendGrid: the request's X-Message-Id (one request stores one message per personalization). */
  xMessageId?: string;
  status: string;
  dateCreated: Date;
  /** Twilio: the resource body returned on create (its status kept current); SendGrid: null. */
  resource: Record<string, unknown> | null;
  to: string;
  from: string | null;
  customArgs: Record<string, string>;
}

const DEFAULT_OUTCOME: FakeOutcome = { reply: 'accept' };
const DEFAULT_RECEIPT: FakeReceipt = { status: 'delivered' };
const DEFAULT_CALL_RECEIPT: FakeReceipt = { status: 'completed', answeredBy: 'human' };
const MAX_BODY_BYTES = 30 * 1024 * 1024; // SendGrid's own limit for a mail/send request
const RECEIPT_POST_TIMEOUT_MS = 10_000;
const TWILIO_API_VERSION = '2010-04-01';
const TWILIO_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/;
const TWILIO_RESOURCE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\/([A-Za-z0-9]+)\.json$/;
/** Number Twilio would pick from a Messaging Service's sender pool (used when the request had no From). */
const MESSAGING_SERVICE_SENDER = '+15005550006';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Params = Record<string, string>;

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Twilio's date format: RFC 2822 with a numeric zone, e.g. "Wed, 18 Aug 2010 20:20:06 +0000". */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseForm(raw: string): Params {
  const out: Params = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const previous = out[key];
    out[key] = previous === undefined ? value : `${previous} ${value}`;
  }
  return out;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The X-Twilio-Signature algorithm: HMAC-SHA1 over the full URL followed by each param name+value, names sorted. */
export function twilioSignature(authToken: string, url: string, params: Params): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + (params[key] ?? ''), url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Headers of a Twilio status callback to `url` carrying `params`, signed with the account's auth token. */
export function twilioCallbackHeaders(
  authToken: string,
  url: string,
  params: Params,
): Record<string, string> {
  return {
    'Content-Type': 'application/x-www-form-urlencoded',
    'User-Agent': 'TwilioProxy/1.1',
    'I-Twilio-Idempotency-Token': randomUUID(),
    'X-Twilio-Signature': twilioSignature(authToken, url, params),
  };
}

/** The Signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp + raw body; the body ends with CRLF as SendGrid's does. */
function signSendgridEvents(
  events: Record<string, unknown>[],
  key: KeyObject,
  signedAt = new Date(),
): { body: string; headers: Record<string, string> } {
  const body = `${JSON.stringify(events)}\r\n`;
  const timestamp = String(Math.floor(signedAt.getTime() / 1000));
  const signature = sign('sha256', Buffer.from(timestamp + body, 'utf8'), key).toString('base64');
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'SendGrid Event API',
      'X-Twilio-Email-Event-Webhook-Signature': signature,
      'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Provider-style error bodies

const SENDGRID_ERROR_MESSAGES: Record<number, string> = {
  400: 'Bad Request',
  401: 'The provided authorization grant is invalid, expired, or revoked',
  403: 'access forbidden',
  404: 'not found',
  413: 'Payload Too Large',
  429: 'too many requests',
  500: 'internal server error',
  503: 'service unavailable',
};

/** What SendGrid checks of an address before accepting a request: one @, no spaces, something either side. */
const SENDGRID_ADDRESS = /^[^\s@]+@[^\s@]+$/;

/** The `personalizations.N.to.M.email` fields holding an address SendGrid would refuse. */
function invalidSendgridAddresses(personalizations: unknown[]): string[] {
  const fields: string[] = [];
  personalizations.forEach((personalization, n) => {
    const to = isRecord(personalization) && Array.isArray(personalization.to) ? personalization.to : [];
    (to as unknown[]).forEach((recipient, m) => {
      const email = isRecord(recipient) ? recipient.email : undefined;
      if (typeof email !== 'string' || !SENDGRID_ADDRESS.test(email))
        fields.push(`personalizations.${n}.to.${m}.email`);
    });
  });
  return fields;
}

/** SendGrid's substitutions: every key replaced by its value, in one pass (a value is not searched again). */
function substitute(value: string, substitutions: Record<string, string>): string {
  const keys = Object.keys(substitutions).sort((a, b) => b.length - a.length);
  if (keys.length === 0) return value;
  const pattern = new RegExp(keys.map((key) => key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return value.replace(pattern, (key) => substitutions[key] ?? key);
}

function sendgridError(
  res: ServerResponse,
  status: number,
  message?: string,
  field: string | null = null,
  extraHeaders: Record<string, string> = {},
): void {
  const headers: Record<string, string> = {};
  if (status === 429) {
    headers['X-RateLimit-Limit'] = '600';
    headers['X-RateLimit-Remaining'] = '0';
    headers['X-RateLimit-Reset'] = String(Math.floor(Date.now() / 1000) + 1);
  }
  const text = message ?? SENDGRID_ERROR_MESSAGES[status] ?? `HTTP ${status}`;
  sendJson(res, status, { errors: [{ message: text, field, help: null }] }, { ...headers, ...extraHeaders });
}

const TWILIO_ERRORS: Record<number, { code: number; message: string }> = {
  400: { code: 21211, message: "Invalid 'To' Phone Number" },
  401: { code: 20003, message: 'Authenticate' },
  403: { code: 20403, message: 'Forbidden' },
  404: { code: 20404, message: 'The requested resource was not found' },
  429: { code: 20429, message: 'Too Many Requests' },
  500: { code: 20500, message: 'Internal Server Error' },
  503: { code: 20503, message: 'Service Unavailable' },
};

function twilioError(
  res: ServerResponse,
  status: number,
  message?: string,
  code?: number,
  extraHeaders: Record<string, string> = {},
): void {
  const known = TWILIO_ERRORS[status] ?? { code: status >= 500 ? 20500 : 20001, message: `HTTP ${status}` };
  const errorCode = code ?? known.code;
  sendJson(
    res,
    status,
    {
      code: errorCode,
      message: message ?? known.message,
      more_info: `https://www.twilio.com/docs/errors/${errorCode}`,
      status,
    },
    { 'Twilio-Request-Id': `RQ${hex(16)}`, ...extraHeaders },
  );
}

// ---------------------------------------------------------------------------------------------------------
// SendGrid events

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') out[k] = v;
    }
  }
  return out;
}

function sendgridEventDetails(status: string): Record<string, string> {
  switch (status) {
    case 'delivered':
      return { response: '250 2.0.0 OK' };
    case 'bounce':
      return {
        reason: '550 5.1.1 The email account that you tried to reach does not exist.',
        status: '5.1.1',
        type: 'bounce',
        bounce_classification: 'Invalid Address',
      };
    case 'dropped':
      return { reason: 'Bounced Address', status: '5.0.0' };
    case 'deferred':
      return { response: '421 4.7.0 Try again later', attempt: '1' };
    default:
      return {};
  }
}

/**
 * SendGrid's events for one accepted mail/send body (one per `to` recipient), as the Event Webhook
 * reports them. `status` may be per recipient (null: no event for that one).
 */
export function buildSendgridEvents(
  body: unknown,
  xMessageId: string,
  status: string | ((to: string) => string | null),
): Record<string, unknown>[] {
  if (!isRecord(body) || !Array.isArray(body.personalizations)) return [];
  const mailArgs = stringRecord(body.custom_args);
  const categories = stringList(body.categories);
  const timestamp = Math.floor(Date.now() / 1000);
  const events: Record<string, unknown>[] = [];
  let index = 0;
  for (const personalization of body.personalizations as unknown[]) {
    if (!isRecord(personalization)) continue;
    const args = { ...mailArgs, ...stringRecord(personalization.custom_args) };
    const recipients = Array.isArray(personalization.to) ? (personalization.to as unknown[]) : [];
    for (const recipient of recipients) {
      const email = isRecord(recipient) && typeof recipient.email === 'string' ? recipient.email : undefined;
      if (email === undefined) continue;
      const event = typeof status === 'string' ? status : status(email);
      if (event === null) {
        index += 1;
        continue;
      }
      events.push({
        ...args,
        email,
        timestamp,
        'smtp-id': `<${xMessageId}@ismtpd0001p1fake.sendgrid.net>`,
        event,
        ...(categories.length > 0 ? { category: categories } : {}),
        ...sendgridEventDetails(event),
        sg_event_id: randomBytes(24).toString('base64url'),
        sg_message_id: `${xMessageId}.filterdrecv-fake-${hex(4)}-${index}.0`,
      });
      index += 1;
    }
  }
  return events;
}

/** The parameters of Twilio's status callback for a message (`request` is the Messages.json form the fake accepted). */
export function twilioMessageCallback(
  accountSid: string,
  sid: string,
  request: Params,
  status: string,
): Params {
  const callback: Params = {
    AccountSid: accountSid,
    ApiVersion: TWILIO_API_VERSION,
    To: request.To ?? '',
    From: request.From ?? MESSAGING_SERVICE_SENDER,
    MessageSid: sid,
    SmsSid: sid,
    MessageStatus: status,
    SmsStatus: status,
  };
  if (request.MessagingServiceSid) callback.MessagingServiceSid = request.MessagingServiceSid;
  if (status === 'undelivered') callback.ErrorCode = '30003';
  if (status === 'failed') callback.ErrorCode = '30008';
  return callback;
}

// ---------------------------------------------------------------------------------------------------------

export async function startFakeProviders(options: FakeProviderOptions): Promise<FakeProviders> {
  const { twilioAccountSid, twilioAuthToken } = options;
  let sendgridWebhookUrl = options.sendgridWebhookUrl;
  let behaviour: (req: RecordedRequest) => FakeOutcome = () => DEFAULT_OUTCOME;

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sendgridWebhookPublicKey = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

  const requests: RecordedRequest[] = [];
  const sendgridMessages: SendgridMessage[] = [];
  let sendgridFailures = { count: 0, status: 503 };
  const stored = new Map<string, StoredMessage>();
  const lookups: { kind: FakeProviderKind; path: string; query: string }[] = [];
  let sendgridActivity = true;
  const receiptsPosted: { url: string; status: number }[] = [];
  /** request handlers running + receipts scheduled or in flight */
  const pending = new Set<Promise<void>>();
  /** receipts not yet due: timer → function that resolves its pending promise without posting */
  const timers = new Map<NodeJS.Timeout, () => void>();
  const waiters = new Set<() => void>();
  let closed = false;

  function track(promise: Promise<void>): void {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  }

  function notifyWaiters(): void {
    for (const waiter of [...waiters]) waiter();
  }

  function scheduleReceipt(delayMs: number, post: () => Promise<void>): void {
    if (closed) return;
    track(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          void post().then(
            () => resolve(),
            () => resolve(),
          );
        }, delayMs);
        timers.set(timer, resolve);
      }),
    );
  }

  async function postReceipt(url: string, body: string, headers: Record<string, string>): Promise<void> {
    let status: number;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(RECEIPT_POST_TIMEOUT_MS),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch {
      status = 0;
    }
    receiptsPosted.push({ url, status });
    notifyWaiters();
  }

  async function postSendgridEvents(events: Record<string, unknown>[]): Promise<void> {
    const url = sendgridWebhookUrl;
    if (url === undefined || events.length === 0) return;
    const { body, headers } = signSendgridEvents(events, privateKey);
    return postReceipt(url, body, headers);
  }

  async function postTwilioCallback(url: string, params: Params): Promise<void> {
    return postReceipt(
      url,
      new URLSearchParams(params).toString(),
      twilioCallbackHeaders(twilioAuthToken, url, params),
    );
  }

  /** Records the request, asks `behaviour` what to do (unless the fake already rejected it). */
  function decide(record: RecordedRequest, rejected: boolean): FakeOutcome | undefined {
    requests.push(record);
    let outcome: FakeOutcome | undefined;
    try {
      outcome = rejected ? undefined : behaviour(record);
    } catch (error) {
      outcome = { reply: 'error', status: 500, message: `fake provider behaviour threw: ${String(error)}` };
    }
    if (outcome?.reply !== 'accept') record.providerMessageId = '';
    notifyWaiters();
    return outcome;
  }

  function store(message: StoredMessage): void {
    stored.set(message.id, message);
  }

  /** The status a receipt reports becomes the message's status when it is due, posted or not. */
  function settleStatus(id: string, status: string, delayMs: number): void {
    const apply = () => {
      const message = stored.get(id);
      if (!message) return;
      message.status = status;
      if (message.resource) message.resource.status = status;
    };
    if (delayMs <= 0) apply();
    else
      scheduleReceipt(delayMs, () => {
        apply();
        return Promise.resolve();
      });
  }

  async function hold(outcome: FakeOutcome | undefined): Promise<void> {
    const delayMs = outcome?.reply === 'accept' || outcome?.reply === 'drop' ? (outcome.delayMs ?? 0) : 0;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  }

  /** A dropped request: held, then the connection is cut with no reply and nothing kept. */
  async function drop(req: IncomingMessage, outcome: FakeOutcome): Promise<void> {
    await hold(outcome);
    req.socket.destroy();
  }

  async function handleSendgrid(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    raw: string,
  ): Promise<void> {
    const xMessageId = randomBytes(16).toString('base64url');
    let body: unknown = raw;
    let problem: { status: number; message: string; field: string | null } | undefined;
    try {
      body = JSON.parse(raw);
    } catch {
      problem = { status: 400, message: 'Bad Request: body is not valid JSON', field: null };
    }
    const record: RecordedRequest = {
      kind: 'sendgrid',
      receivedAt: Date.now(),
      path,
      headers: { ...req.headers },
      body,
      providerMessageId: xMessageId,
    };
    const auth = req.headers.authorization;
    if (auth === undefined || !/^Bearer \S+/.test(auth)) {
      problem = { status: 401, message: SENDGRID_ERROR_MESSAGES[401] ?? 'unauthorized', field: null };
    } else if (problem === undefined) {
      if (!isRecord(body) || !Array.isArray(body.personalizations) || body.personalizations.length === 0) {
        problem = {
          status: 400,
          message: 'The personalizations field is required and must have at least one personalization.',
          field: 'personalizations',
        };
      } else if (!isRecord(body.from) || typeof body.from.email !== 'string') {
        problem = {
          status: 400,
          message: 'The from object must be provided for every email send.',
          field: 'from',
        };
      }
    }
    const invalid =
      problem === undefined && isRecord(body) && Array.isArray(body.personalizations)
        ? invalidSendgridAddresses(body.personalizations as unknown[])
        : [];
    const failing = problem === undefined && invalid.length === 0 && sendgridFailures.count > 0;
    if (failing) sendgridFailures = { ...sendgridFailures, count: sendgridFailures.count - 1 };
    const outcome = decide(record, problem !== undefined || invalid.length > 0 || failing);
    if (problem !== undefined) return sendgridError(res, problem.status, problem.message, problem.field);
    if (invalid.length > 0) {
      // SendGrid's answer: one error per refused address, each naming its field; nothing is sent.
      const help =
        'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to';
      return sendJson(res, 400, {
        errors: invalid.map((field) => ({ message: 'Does not contain a valid address.', field, help })),
      });
    }
    if (failing) return sendgridError(res, sendgridFailures.status);
    if (outcome?.reply === 'drop') return drop(req, outcome);
    if (outcome === undefined || outcome.reply === 'error') {
      return sendgridError(res, outcome?.status ?? 500, outcome?.message, null, outcome?.headers);
    }
    await hold(outcome);
    if (!res.destroyed) {
      res.writeHead(202, { 'X-Message-Id': xMessageId, 'Content-Length': 0 });
      res.end();
    }
    const common = outcome.receipt === undefined ? DEFAULT_RECEIPT : outcome.receipt;
    const receiptOf = (to: string) => (outcome.receiptFor ? outcome.receiptFor(to) : common);
    const personalizations: unknown[] =
      isRecord(body) && Array.isArray(body.personalizations) ? body.personalizations : [];
    const content = isRecord(body) && Array.isArray(body.content) ? (body.content as unknown[]) : [];
    const part = (type: string) => {
      const found = content.find((c) => isRecord(c) && c.type === type);
      return isRecord(found) && typeof found.value === 'string' ? found.value : '';
    };
    // One stored message per personalization: the first under the request's id, as before.
    const storedIds: { id: string; to: string }[] = [];
    personalizations.forEach((personalization, index) => {
      const recipients: unknown[] =
        isRecord(personalization) && Array.isArray(personalization.to) ? personalization.to : [];
      const firstTo = recipients[0];
      const customArgs = {
        ...stringRecord(isRecord(body) ? body.custom_args : undefined),
        ...stringRecord(isRecord(personalization) ? personalization.custom_args : undefined),
      };
      const to = isRecord(firstTo) && typeof firstTo.email === 'string' ? firstTo.email : '';
      const id = index === 0 ? xMessageId : `${xMessageId}.${index}`;
      storedIds.push({ id, to });
      store({
        kind: 'sendgrid',
        id,
        xMessageId,
        status: 'processed',
        dateCreated: new Date(),
        resource: null,
        to,
        from: null,
        customArgs,
      });
      const substitutions = stringRecord(
        isRecord(personalization) ? personalization.substitutions : undefined,
      );
      const subject =
        isRecord(personalization) && typeof personalization.subject === 'string'
          ? personalization.subject
          : isRecord(body) && typeof body.subject === 'string'
            ? body.subject
            : '';
      if (options.keepSendgridMessages === false) return;
      sendgridMessages.push({
        xMessageId,
        index,
        to,
        toName: isRecord(firstTo) && typeof firstTo.name === 'string' ? firstTo.name : null,
        subject: substitute(subject, substitutions),
        text: substitute(part('text/plain'), substitutions),
        html: substitute(part('text/html'), substitutions),
        headers: {
          ...stringRecord(isRecord(body) ? body.headers : undefined),
          ...stringRecord(isRecord(personalization) ? personalization.headers : undefined),
        },
        customArgs,
      });
    });
    notifyWaiters();
    for (const { id, to } of storedIds) {
      const receipt = receiptOf(to);
      if (receipt !== null) settleStatus(id, receipt.status, outcome.receiptDelayMs ?? 0);
    }
    if (outcome.postReceipt === false) return;
    const events = buildSendgridEvents(body, xMessageId, (to) => receiptOf(to)?.status ?? null);
    scheduleReceipt(outcome.receiptDelayMs ?? 0, () => postSendgridEvents(events));
  }

  function checkTwilioAuth(
    req: IncomingMessage,
    pathAccountSid: string,
  ): { status: number; code: number } | undefined {
    const match = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (user !== twilioAccountSid || password !== twilioAuthToken) return { status: 401, code: 20003 };
    if (pathAccountSid !== twilioAccountSid) return { status: 404, code: 20404 };
    return undefined;
  }

  function validateTwilio(kind: FakeProviderKind, p: Params): { code: number; message: string } | undefined {
    if (kind === 'twilio-sms') {
      if (!p.To) return { code: 21604, message: "A 'To' phone number is required." };
      if (!p.From && !p.MessagingServiceSid)
        return { code: 21603, message: "A 'From' phone number is required." };
      if (!p.Body && !p.MediaUrl && !p.ContentSid)
        return { code: 21602, message: 'Message body is required.' };
    } else {
      if (!p.To) return { code: 21201, message: "No 'To' number is specified" };
      if (!p.From) return { code: 21213, message: "No 'From' number is specified" };
      if (!p.Url && !p.Twiml && !p.ApplicationSid)
        return { code: 21205, message: 'Url parameter is required.' };
    }
    return undefined;
  }

  async function handleTwilio(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    raw: string,
    pathAccountSid: string,
    resource: 'Messages' | 'Calls',
  ): Promise<void> {
    const kind: FakeProviderKind = resource === 'Messages' ? 'twilio-sms' : 'twilio-voice';
    const sid = (resource === 'Messages' ? 'SM' : 'CA') + hex(16);
    const params = parseForm(raw);
    const record: RecordedRequest = {
      kind,
      receivedAt: Date.now(),
      path,
      headers: { ...req.headers },
      body: params,
      providerMessageId: sid,
    };
    const authProblem = checkTwilioAuth(req, pathAccountSid);
    const invalid = authProblem === undefined ? validateTwilio(kind, params) : undefined;
    const outcome = decide(record, authProblem !== undefined || invalid !== undefined);
    if (authProblem !== undefined) return twilioError(res, authProblem.status, undefined, authProblem.code);
    if (invalid !== undefined) return twilioError(res, 400, invalid.message, invalid.code);
    if (outcome?.reply === 'drop') return drop(req, outcome);
    if (outcome === undefined || outcome.reply === 'error') {
      return twilioError(res, outcome?.status ?? 500, outcome?.message, undefined, outcome?.headers);
    }
    await hold(outcome);

    const created = new Date();
    const now = rfc2822(created);
    const uri = `/${TWILIO_API_VERSION}/Accounts/${twilioAccountSid}/${resource}/${sid}`;
    const to = params.To ?? '';
    const from = params.From ?? null;
    const resourceBody =
      kind === 'twilio-sms'
        ? {
            sid,
            account_sid: twilioAccountSid,
            api_version: TWILIO_API_VERSION,
            body: params.Body ?? '',
            date_created: now,
            date_updated: now,
            date_sent: now,
            direction: 'outbound-api',
            error_code: null,
            error_message: null,
            from,
            messaging_service_sid: params.MessagingServiceSid ?? null,
            num_media: '0',
            num_segments: '1',
            price: null,
            price_unit: 'USD',
            status: 'queued',
            subresource_uris: { media: `${uri}/Media.json` },
            to,
            uri: `${uri}.json`,
          }
        : {
            sid,
            account_sid: twilioAccountSid,
            answered_by: null,
            api_version: TWILIO_API_VERSION,
            caller_name: null,
            date_created: now,
            date_updated: now,
            direction: 'outbound-api',
            duration: null,
            end_time: null,
            forwarded_from: null,
            from,
            from_formatted: from,
            group_sid: null,
            parent_call_sid: null,
            phone_number_sid: `PN${hex(16)}`,
            price: null,
            price_unit: 'USD',
            queue_time: '0',
            start_time: null,
            status: 'queued',
            subresource_uris: {
              notifications: `${uri}/Notifications.json`,
              recordings: `${uri}/Recordings.json`,
            },
            to,
            to_formatted: to,
            trunk_sid: null,
            uri: `${uri}.json`,
          };
    if (!res.destroyed) sendJson(res, 201, resourceBody, { 'Twilio-Request-Id': `RQ${hex(16)}` });

    const receipt =
      outcome.receipt === undefined
        ? kind === 'twilio-voice'
          ? DEFAULT_CALL_RECEIPT
          : DEFAULT_RECEIPT
        : outcome.receipt;
    store({
      kind,
      id: sid,
      status: kind === 'twilio-sms' ? 'sent' : 'queued',
      dateCreated: created,
      resource: { ...resourceBody, status: kind === 'twilio-sms' ? 'sent' : 'queued' },
      to,
      from: from ?? MESSAGING_SERVICE_SENDER,
      customArgs: {},
    });
    if (receipt !== null) {
      settleStatus(sid, receipt.status, outcome.receiptDelayMs ?? 0);
      const kept = stored.get(sid);
      if (kept?.resource && receipt.answeredBy !== undefined) kept.resource.answered_by = receipt.answeredBy;
    }
    const callbackUrl = params.StatusCallback;
    if (receipt === null || !callbackUrl || outcome.postReceipt === false) return;
    const common: Params = {
      AccountSid: twilioAccountSid,
      ApiVersion: TWILIO_API_VERSION,
      To: to,
      From: from ?? MESSAGING_SERVICE_SENDER,
    };
    let callback: Params;
    if (kind === 'twilio-sms') {
      callback = twilioMessageCallback(twilioAccountSid, sid, params, receipt.status);
    } else {
      const answered = receipt.status === 'completed';
      callback = {
        ...common,
        CallSid: sid,
        CallStatus: receipt.status,
        Called: to,
        Caller: from ?? '',
        Direction: 'outbound-api',
        CallbackSource: 'call-progress-events',
        SequenceNumber: '0',
        Timestamp: rfc2822(new Date()),
        CallDuration: answered ? '7' : '0',
      };
      if (answered) callback.Duration = '1';
      if (receipt.answeredBy !== undefined) callback.AnsweredBy = receipt.answeredBy;
    }
    scheduleReceipt(outcome.receiptDelayMs ?? 0, () => postTwilioCallback(callbackUrl, callback));
  }

  /** Twilio's GET of one Message or Call, and its list filtered by To, From and DateSent. */
  function handleTwilioLookup(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const one = TWILIO_RESOURCE_PATH.exec(url.pathname);
    const list = TWILIO_PATH.exec(url.pathname);
    const [, accountSid = '', resource = ''] = one ?? list ?? [];
    const kind: FakeProviderKind = resource === 'Calls' ? 'twilio-voice' : 'twilio-sms';
    lookups.push({ kind, path: url.pathname, query: url.search });
    notifyWaiters();
    const authProblem = checkTwilioAuth(req, accountSid);
    if (authProblem !== undefined) return twilioError(res, authProblem.status, undefined, authProblem.code);
    if (one) {
      const message = stored.get(one[3] ?? '');
      if (!message?.resource || message.kind !== kind) return twilioError(res, 404);
      return sendJson(res, 200, message.resource);
    }
    const to = url.searchParams.get('To');
    const from = url.searchParams.get('From');
    const sentAfter = url.searchParams.get('DateSent>');
    const pageSize = Number(url.searchParams.get('PageSize') ?? '50');
    const matches = [...stored.values()]
      .filter(
        (m) =>
          m.kind === kind &&
          m.resource !== null &&
          (to === null || m.to === to) &&
          (from === null || m.from === from) &&
          (sentAfter === null || m.dateCreated.getTime() >= new Date(sentAfter).getTime() - 1000),
      )
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())
      .slice(0, pageSize);
    const key = kind === 'twilio-voice' ? 'calls' : 'messages';
    sendJson(res, 200, {
      [key]: matches.map((m) => m.resource),
      end: Math.max(0, matches.length - 1),
      first_page_uri: `${url.pathname}${url.search}`,
      next_page_uri: null,
      page: 0,
      page_size: pageSize,
      previous_page_uri: null,
      start: 0,
      uri: `${url.pathname}${url.search}`,
    });
  }

  /** SendGrid's Email Activity API: custom args queried as unique_args['name']="value", joined by OR. */
  function handleSendgridActivity(req: IncomingMessage, res: ServerResponse, url: URL): void {
    lookups.push({ kind: 'sendgrid', path: url.pathname, query: url.search });
    notifyWaiters();
    const auth = req.headers.authorization;
    if (auth === undefined || !/^Bearer \S+/.test(auth)) return sendgridError(res, 401);
    if (!sendgridActivity) return sendgridError(res, 403);
    const query = url.searchParams.get('query') ?? '';
    const clauses = [...query.matchAll(/unique_args\['([^']+)'\]\s*=\s*"([^"]*)"/g)].map(
      ([, name = '', value = '']) => ({
        name,
        value,
      }),
    );
    const limit = Number(url.searchParams.get('limit') ?? '10');
    const messages = [...stored.values()]
      .filter((m) => m.kind === 'sendgrid' && clauses.some((c) => m.customArgs[c.name] === c.value))
      .slice(0, limit)
      .map((m) => ({
        from_email: 'notices@acme.example',
        msg_id: `${m.xMessageId ?? m.id}.filterdrecv-fake-${m.id === m.xMessageId ? 0 : m.id.split('.')[1]}.0`,
        subject: '',
        to_email: m.to,
        status:
          m.status === 'delivered'
            ? 'delivered'
            : m.status === 'processed' || m.status === 'deferred'
              ? 'processed'
              : 'not_delivered',
        opens_count: 0,
        clicks_count: 0,
        last_event_time: new Date().toISOString(),
      }));
    sendJson(res, 200, { messages });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const path = url.pathname;
    const twilioMatch = TWILIO_PATH.exec(path);
    const isSendgrid = path === '/v3/mail/send';
    try {
      const raw = await readBody(req);
      if (req.method === 'GET' && (TWILIO_RESOURCE_PATH.test(path) || twilioMatch)) {
        return handleTwilioLookup(req, res, url);
      }
      if (req.method === 'GET' && path === '/v3/messages') return handleSendgridActivity(req, res, url);
      if (req.method !== 'POST' || (!isSendgrid && !twilioMatch)) {
        const message = `fake provider: no route for ${req.method ?? '?'} ${path}`;
        return path.startsWith('/2010-04-01/')
          ? twilioError(res, 404, message)
          : sendgridError(res, 404, message);
      }
      if (isSendgrid) return await handleSendgrid(req, res, path, raw);
      const [, accountSid = '', resource] = twilioMatch ?? [];
      await handleTwilio(req, res, path, raw, accountSid, resource === 'Calls' ? 'Calls' : 'Messages');
    } catch (error) {
      if (res.headersSent) return;
      const status = error instanceof HttpError ? error.status : 500;
      const message = `fake provider: ${error instanceof Error ? error.message : String(error)}`;
      return isSendgrid ? sendgridError(res, status, message) : twilioError(res, status, message);
    }
  }

  const server: Server = createServer((req, res) => track(handle(req, res)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  async function settled(): Promise<void> {
    while (pending.size > 0) await Promise.all([...pending]);
  }

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    sendgridWebhookPublicKey,
    requests,
    sendgridMessages,
    failNextSendgrid(count, status = 503) {
      sendgridFailures = { count, status };
    },
    receiptsPosted,
    lookups,
    setSendgridActivity(available) {
      sendgridActivity = available;
    },
    statusOf(providerMessageId) {
      return stored.get(providerMessageId)?.status;
    },
    setBehaviour(fn) {
      behaviour = fn;
    },
    setSendgridWebhookUrl(url) {
      sendgridWebhookUrl = url;
    },
    signSendgridEvents(events, signedAt) {
      return signSendgridEvents(events, privateKey, signedAt);
    },
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        let done = false;
        const finish = (error?: Error): void => {
          if (done) return;
          done = true;
          waiters.delete(check);
          clearInterval(poll);
          clearTimeout(deadline);
          if (error === undefined) resolve();
          else reject(error);
        };
        const check = (): void => {
          try {
            if (predicate(requests)) finish();
          } catch (error) {
            finish(
              error instanceof Error
                ? error
                : new Error('fake providers: waitFor predicate threw a non-Error'),
            );
          }
        };
        // Re-checked on every recorded request / posted receipt, plus a short poll for predicates that
        // also look at state outside the fake.
        const poll = setInterval(check, 20);
        const deadline = setTimeout(() => {
          const seen = requests.map((r) => `${r.kind} ${r.path} -> ${r.providerMessageId || 'error'}`);
          finish(
            new Error(
              `fake providers: waitFor condition still false after ${timeoutMs} ms; ` +
                `${requests.length} request(s) recorded${seen.length > 0 ? `: ${seen.slice(-20).join('; ')}` : ''}; ` +
                `${receiptsPosted.length} receipt(s) posted. Predicate: ${predicate.toString().slice(0, 300)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    settled,
    async close() {
      closed = true;
      for (const [timer, resolve] of timers) {
        clearTimeout(timer);
        resolve();
      }
      timers.clear();
      await settled();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
