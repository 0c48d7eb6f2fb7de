import crypto from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import busboy from 'busboy';
import twilio from 'twilio';
import type { Deps } from '../deps.js';
import { NotFoundError, ValidationError } from '../platform/errors.js';
import { verifiedTwilioParams } from '../web/twilio-signature.js';
import { receiveEmail, receiveSms, type InboundEmail } from './service.js';

type InboundDeps = Pick<Deps, 'config' | 'db' | 'vault' | 'clock' | 'i18n' | 'logger'>;

/** An inbound email over the configured size: answered 413 (the error handler reads `status`). */
class TooLargeError extends Error {
  readonly status = 413;
  constructor() {
    super('The email is larger than this server accepts (INBOUND_EMAIL_MAX_BYTES).');
    this.name = 'TooLargeError';
  }
}

function sameSecret(expected: string, given: string): boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(given).digest();
  return crypto.timingSafeEqual(a, b);
}

function basicAuthOk(req: Request, user: string, password: string): boolean {
  const header = req.get('Authorization') ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both compared in full, always, so the time taken says nothing about which one was wrong.
  const userOk = sameSecret(user, decoded.slice(0, colon));
  const passwordOk = sameSecret(password, decoded.slice(colon + 1));
  return userOk && passwordOk;
}

/** What an Inbound Parse post holds, read with every limit on: fields kept, attachments counted and dropped. */
function readInboundParse(
  req: Request,
  maxBytes: number,
): Promise<{ fields: Record<string, string>; files: number }> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.get('Content-Length') ?? 0);
    if (declared > maxBytes) {
      reject(new TooLargeError());
      return;
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fields: 50, fieldSize: maxBytes, files: 100, fileSize: maxBytes, parts: 200 },
      });
    } catch {
      reject(new ValidationError('The body must be multipart/form-data, as Inbound Parse posts it.'));
      return;
    }
    const fields: Record<string, string> = {};
    let files = 0;
    let received = 0;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) fail(new TooLargeError());
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new TooLargeError());
      else fields[name] = value;
    });
    // Attachments are never stored: counted, so staff know to ask for them another way, and dropped.
    parser.on('file', (_name, stream) => {
      files += 1;
      stream.resume();
    });
    parser.on('fieldsLimit', () => fail(new TooLargeError()));
    parser.on('filesLimit', () => fail(new TooLargeError()));
    parser.on('partsLimit', () => fail(new TooLargeError()));
    parser.on('close', () => {
      if (!failed) resolve({ fields, files });
    });
    parser.on('error', () => fail(new ValidationError('The multipart body could not be read.')));
    req.pipe(parser);
  });
}

/** Plain text from an HTML-only email: enough for an agent to read, never rendered as HTML. */
function textOfHtml(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/p>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function addressesOf(fields: Record<string, string>): string[] {
  const listed = [fields.to, fields.cc]
    .filter((value): value is string => typeof value === 'string')
    .flatMap((value) => value.split(','));
  let envelope: string[] = [];
  try {
    const parsed = JSON.parse(fields.envelope ?? '{}') as { to?: unknown };
    if (Array.isArray(parsed.to)) envelope = parsed.to.filter((v): v is string => typeof v === 'string');
  } catch {
    // A malformed envelope leaves the To and Cc headers to go by.
  }
  return [...envelope, ...listed].slice(0, 50);
}

/** The inbound email a Parse post describes; a post without a sender is malformed. */
export function toInboundEmail(fields: Record<string, string>, files: number): InboundEmail {
  const from = fields.from?.trim();
  if (!from) throw new ValidationError('from is missing');
  const declared = Number(fields.attachments ?? 0);
  const messageIdHeader = /^message-id:\s*(\S+)\s*$/im.exec(fields.headers ?? '')?.[1] ?? null;
  return {
    from,
    to: addressesOf(fields),
    subject: fields.subject?.trim() || null,
    text: fields.text?.trim() || textOfHtml(fields.html ?? ''),
    messageIdHeader,
    attachmentsDropped: Math.max(files, Number.isSafeInteger(declared) && declared > 0 ? declared : 0),
  };
}

function twimlReply(res: Response, text: string | null): void {
  const response = new twilio.twiml.MessagingResponse();
  if (text) response.message(text);
  res.status(200).type('text/xml').send(response.toString());
}

/**
 * People answering back. Texts come on Twilio's "A message comes in" webhook, signed like every
 * Twilio callback; emails come from SendGrid Inbound Parse, behind a secret path and basic auth,
 * and the route exists only when those are configured.
 */
export function registerInbound(app: Express, deps: InboundDeps): void {
  app.post(
    '/webhooks/twilio/sms',
    express.urlencoded({ extended: false, limit: '100kb' }),
    async (req, res) => {
      const params = verifiedTwilioParams(deps, req);
      if (typeof params.From !== 'string' || params.From.trim() === '')
        throw new ValidationError('From is missing');
      const answer = await receiveSms(deps, {
        from: params.From,
        body: typeof params.Body === 'string' ? params.Body : '',
        messageSid: typeof params.MessageSid === 'string' ? params.MessageSid : undefined,
      });
      twimlReply(res, answer.reply);
    },
  );

  const inbound = deps.config.inboundEmail;
  if (!inbound) return;
  app.post('/webhooks/inbound-email/:secret', async (req, res) => {
    if (!sameSecret(inbound.secret, String(req.params.secret))) throw new NotFoundError('Not found');
    if (!basicAuthOk(req, inbound.user, inbound.password)) {
      res
        .status(401)
        .set('WWW-Authenticate', 'Basic realm="candor-inbound-email", charset="UTF-8"')
        .type('application/problem+json')
        .json({ title: 'Authentication required', status: 401 });
      return;
    }
    const { fields, files } = await readInboundParse(req, inbound.maxBytes);
    await receiveEmail(deps, toInboundEmail(fields, files));
    // Inbound Parse retries anything but a 2xx for up to three days: a filed email is a 200.
    res.status(200).json({ filed: true });
  });
}
