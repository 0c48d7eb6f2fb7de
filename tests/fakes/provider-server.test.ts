import { createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startFakeProviders, type FakeProviders } from './provider-server.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'fake-auth-token-0123456789';

interface Received {
  url: string; // full URL as the sender addressed it
  headers: IncomingHttpHeaders;
  raw: string;
}

interface Receiver {
  baseUrl: string;
  received: Received[];
  /** status the receiver answers with, by path (default 200) */
  statusFor: Map<string, number>;
  close(): Promise<void>;
}

/** A stand-in for Candor's webhook endpoints: records raw bodies so the signatures can be checked. */
async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const statusFor = new Map<string, number>();
  let baseUrl = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = `${baseUrl}${req.url ?? '/'}`;
      received.push({ url, headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statusFor.get(new URL(url).pathname) ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    received,
    statusFor,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name.toLowerCase()];
  if (typeof value !== 'string') throw new Error(`missing header ${name}`);
  return value;
}

function formParams(raw: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(raw));
}

function verifySendgridSignature(publicKeyBase64: string, received: Received): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
  const timestamp = header(received.headers, 'X-Twilio-Email-Event-Webhook-Timestamp');
  const signature = Buffer.from(header(received.headers, 'X-Twilio-Email-Event-Webhook-Signature'), 'base64');
  return verify('sha256', Buffer.from(timestamp + received.raw, 'utf8'), key, signature);
}

function sendgridMail(fake: FakeProviders, apiKey = 'SG.test'): MailService {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', fake.baseUrl); // after setApiKey, which resets baseUrl
  const mail = new MailService();
  mail.setClient(client);
  return mail;
}

function twilioClient(fake: FakeProviders, token = AUTH_TOKEN): twilio.Twilio {
  const client = twilio(ACCOUNT_SID, token);
  client.api.baseUrl = fake.baseUrl;
  return client;
}

function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return value as Record<string, unknown>;
}

let fake: FakeProviders;
let receiver: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  fake = await startFakeProviders({
    twilioAccountSid: ACCOUNT_SID,
    twilioAuthToken: AUTH_TOKEN,
    sendgridWebhookUrl: `${receiver.baseUrl}/webhooks/sendgrid`,
  });
});

afterEach(async () => {
  await fake.close();
  await receiver.close();
});

describe('the fake SendGrid API', () => {
  it('accepts a mail from the official SDK with 202 and an X-Message-Id, recording the request whole', async () => {
    const mail = sendgridMail(fake);
    const [response] = await mail.send({
      from: { email: 'notify@candor.test', name: 'Candor' },
      subject: 'About the incident',
      content: [{ type: 'text/plain', value: 'Hello' }],
      customArgs: { campaign_id: 'camp-1' },
      personalizations: [
        { to: [{ email: 'a@example.test' }], customArgs: { notification_id: 'n-1' } },
        { to: [{ email: 'b@example.test' }], customArgs: { notification_id: 'n-2' } },
      ],
    });

    expect(response.statusCode).toBe(202);
    const xMessageId = (response.headers as Record<string, unknown>)['x-message-id'];
    expect(typeof xMessageId).toBe('string');
    expect(fake.requests).toHaveLength(1);
    const [recorded] = fake.requests;
    expect(recorded).toMatchObject({
      kind: 'sendgrid',
      path: '/v3/mail/send',
      providerMessageId: xMessageId,
    });
    expect(recorded?.headers.authorization).toBe('Bearer SG.test');
    const body = asRecord(recorded?.body);
    expect(body.personalizations).toHaveLength(2);
    expect(body.custom_args).toEqual({ campaign_id: 'camp-1' });
    expect(body.subject).toBe('About the incident');
  });

  it('posts one signed delivered event per personalization, with custom_args flattened into each event', async () => {
    const mail = sendgridMail(fake);
    const [response] = await mail.send({
      from: 'notify@candor.test',
      subject: 's',
      text: 't',
      customArgs: { campaign_id: 'camp-1' },
      personalizations: [
        { to: 'a@example.test', customArgs: { notification_id: 'n-1' } },
        { to: 'b@example.test', customArgs: { notification_id: 'n-2' } },
      ],
    });
    const xMessageId = (response.headers as Record<string, unknown>)['x-message-id'];
    if (typeof xMessageId !== 'string') throw new Error('no X-Message-Id');
    await fake.settled();

    expect(receiver.received).toHaveLength(1);
    const [post] = receiver.received;
    if (post === undefined) throw new Error('no webhook post');
    expect(post.url).toBe(`${receiver.baseUrl}/webhooks/sendgrid`);
    expect(verifySendgridSignature(fake.sendgridWebhookPublicKey, post)).toBe(true);
    expect(verifySendgridSignature(fake.sendgridWebhookPublicKey, { ...post, raw: post.raw.trim() })).toBe(
      false,
    );
    expect(fake.receiptsPosted).toEqual([{ url: post.url, status: 200 }]);

    const events = JSON.parse(post.raw) as Record<string, unknown>[];
    expect(events).toHaveLength(2);
    expect(events.map((e) => [e.email, e.notification_id, e.campaign_id, e.event])).toEqual([
      ['a@example.test', 'n-1', 'camp-1', 'delivered'],
      ['b@example.test', 'n-2', 'camp-1', 'delivered'],
    ]);
    for (const event of events) {
      expect(String(event.sg_message_id).startsWith(`${xMessageId}.`)).toBe(true);
      expect(typeof event.timestamp).toBe('number');
    }
    expect(new Set(events.map((e) => e.sg_event_id)).size).toBe(2);
  });

  it('reports bounces with a reason and type, after the requested delay, and settled() waits for them', async () => {
    fake.setBehaviour(() => ({ reply: 'accept', receipt: { status: 'bounce' }, receiptDelayMs: 150 }));
    await sendgridMail(fake).send({ from: 'n@candor.test', to: 'x@example.test', subject: 's', text: 't' });
    expect(receiver.received).toHaveLength(0);
    await fake.settled();

    const events = JSON.parse(receiver.received[0]?.raw ?? '[]') as Record<string, unknown>[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ email: 'x@example.test', event: 'bounce', type: 'bounce' });
    expect(typeof events[0]?.reason).toBe('string');
  });

  it('posts no receipt when the behaviour asks for none, and reads the webhook URL when the receipt is due', async () => {
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    await sendgridMail(fake).send({ from: 'n@candor.test', to: 'x@example.test', subject: 's', text: 't' });
    await fake.settled();
    expect(receiver.received).toHaveLength(0);

    fake.setBehaviour(() => ({ reply: 'accept', receipt: { status: 'processed' } }));
    fake.setSendgridWebhookUrl(`${receiver.baseUrl}/elsewhere`);
    receiver.statusFor.set('/elsewhere', 403);
    await sendgridMail(fake).send({ from: 'n@candor.test', to: 'x@example.test', subject: 's', text: 't' });
    await fake.settled();
    expect(fake.receiptsPosted).toEqual([{ url: `${receiver.baseUrl}/elsewhere`, status: 403 }]);
  });

  it('makes the SDK throw with the status the behaviour chose, such as 429', async () => {
    fake.setBehaviour(() => ({ reply: 'error', status: 429 }));
    const sending = sendgridMail(fake).send({
      from: 'n@candor.test',
      to: 'x@example.test',
      subject: 's',
      text: 't',
    });
    await expect(sending).rejects.toMatchObject({ code: 429 });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.providerMessageId).toBe('');
    await fake.settled();
    expect(receiver.received).toHaveLength(0);
  });

  it('answers 401 with a JSON error when the Authorization header is missing', async () => {
    const response = await fetch(`${fake.baseUrl}/v3/mail/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ personalizations: [{ to: [{ email: 'x@example.test' }] }] }),
    });
    expect(response.status).toBe(401);
    const body = asRecord(await response.json());
    expect(Array.isArray(body.errors)).toBe(true);
    expect(fake.requests[0]?.providerMessageId).toBe('');
  });
});

describe('the fake Twilio API', () => {
  it('accepts an SMS from the official SDK with a Twilio-like resource and records the form body', async () => {
    const message = await twilioClient(fake).messages.create({
      to: '+15005550001',
      from: '+15005550002',
      body: 'Your data was exposed',
      statusCallback: `${receiver.baseUrl}/webhooks/twilio/sms?notification=n-1`,
    });

    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(message.to).toBe('+15005550001');
    expect(message.accountSid).toBe(ACCOUNT_SID);
    expect(message.dateCreated).toBeInstanceOf(Date);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      kind: 'twilio-sms',
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
      providerMessageId: message.sid,
      body: { To: '+15005550001', From: '+15005550002', Body: 'Your data was exposed' },
    });
  });

  it('posts a message status callback that twilio.validateRequest accepts', async () => {
    fake.setBehaviour(() => ({ reply: 'accept', receipt: { status: 'undelivered' } }));
    const statusCallback = `${receiver.baseUrl}/webhooks/twilio/sms?notification=n-1&note=a%20b`;
    const message = await twilioClient(fake).messages.create({
      to: '+15005550001',
      messagingServiceSid: `MG${'ab'.repeat(16)}`,
      body: 'hi',
      statusCallback,
    });
    await fake.settled();

    const [post] = receiver.received;
    if (post === undefined) throw new Error('no status callback');
    expect(post.url).toBe(statusCallback);
    const params = formParams(post.raw);
    expect(params).toMatchObject({
      MessageSid: message.sid,
      MessageStatus: 'undelivered',
      AccountSid: ACCOUNT_SID,
      To: '+15005550001',
    });
    expect(params.ErrorCode).toMatch(/^\d+$/);
    const signature = header(post.headers, 'X-Twilio-Signature');
    expect(twilio.validateRequest(AUTH_TOKEN, signature, post.url, params)).toBe(true);
    expect(
      twilio.validateRequest(AUTH_TOKEN, signature, post.url, { ...params, MessageStatus: 'delivered' }),
    ).toBe(false);
    expect(twilio.validateRequest('another-token', signature, post.url, params)).toBe(false);
  });

  it('accepts a call and posts a signed call status callback carrying AnsweredBy', async () => {
    fake.setBehaviour(() => ({ reply: 'accept', receipt: { status: 'completed', answeredBy: 'human' } }));
    const statusCallback = `${receiver.baseUrl}/webhooks/twilio/voice`;
    const call = await twilioClient(fake).calls.create({
      to: '+15005550001',
      from: '+15005550002',
      twiml: '<Response><Say>Hello</Say></Response>',
      statusCallback,
      statusCallbackEvent: ['initiated', 'completed'],
      machineDetection: 'Enable',
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe('queued');
    expect(fake.requests[0]).toMatchObject({
      kind: 'twilio-voice',
      providerMessageId: call.sid,
      body: { StatusCallbackEvent: 'initiated completed', MachineDetection: 'Enable' },
    });
    await fake.settled();

    const [post] = receiver.received;
    if (post === undefined) throw new Error('no status callback');
    const params = formParams(post.raw);
    expect(params).toMatchObject({
      CallSid: call.sid,
      CallStatus: 'completed',
      AnsweredBy: 'human',
      AccountSid: ACCOUNT_SID,
      To: '+15005550001',
      From: '+15005550002',
    });
    expect(params.CallDuration).toMatch(/^\d+$/);
    expect(
      twilio.validateRequest(AUTH_TOKEN, header(post.headers, 'X-Twilio-Signature'), post.url, params),
    ).toBe(true);
  });

  it('makes the SDK throw a RestException with status 429 when the behaviour says so', async () => {
    fake.setBehaviour((req) =>
      req.kind === 'twilio-sms' ? { reply: 'error', status: 429, message: 'Slow down' } : { reply: 'accept' },
    );
    const sending = twilioClient(fake).messages.create({
      to: '+15005550001',
      from: '+15005550002',
      body: 'hi',
    });
    await expect(sending).rejects.toBeInstanceOf(twilio.RestException);
    await expect(sending).rejects.toMatchObject({ status: 429, code: 20429, message: 'Slow down' });
    expect(fake.requests.map((r) => [r.kind, r.providerMessageId])).toEqual([['twilio-sms', '']]);
  });

  it('rejects wrong credentials with a Twilio-style 401', async () => {
    const sending = twilioClient(fake, 'wrong-token').messages.create({
      to: '+15005550001',
      from: '+15005550002',
      body: 'hi',
    });
    await expect(sending).rejects.toMatchObject({ status: 401, code: 20003 });
  });
});

describe('waiting on the fake', () => {
  it('resolves waitFor as soon as the predicate holds', async () => {
    const waiting = fake.waitFor((requests) => requests.some((r) => r.kind === 'twilio-sms'));
    await twilioClient(fake).messages.create({ to: '+15005550001', from: '+15005550002', body: 'hi' });
    await expect(waiting).resolves.toBeUndefined();
  });

  it('rejects waitFor with a message that says what was recorded when the predicate never holds', async () => {
    await sendgridMail(fake).send({ from: 'n@candor.test', to: 'x@example.test', subject: 's', text: 't' });
    await expect(fake.waitFor((requests) => requests.length > 5, 50)).rejects.toThrow(
      /still false after 50 ms; 1 request\(s\) recorded: sendgrid \/v3\/mail\/send/,
    );
  });
});
