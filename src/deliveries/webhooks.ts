import express, { type Express, type Response } from 'express';
import type { Deps } from '../deps.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.js';
import {
  parseSendgridEvents,
  sendgridTimestampIsFresh,
  verifySendgridSignature,
} from '../channels/sendgrid.js';
import { parseTwilioStatus } from '../channels/twilio.js';
import { verifiedTwilioParams } from '../web/twilio-signature.js';
import { createReceiptGrouper, receiveProviderEvents, type ReceiptOutcome } from './receipts.js';
import { positiveId } from '../platform/ids.js';

type WebhookDeps = Pick<
  Deps,
  'config' | 'db' | 'vault' | 'clock' | 'logger' | 'queues' | 'redis' | 'metrics'
>;

/** SendGrid retries a refused post for up to 24 hours; this is only a hint for a gentler client. */
const RETRY_AFTER_SECONDS = 30;

/**
 * 2xx once the receipts are kept somewhere (applied in PostgreSQL: 204; held in the receipts queue
 * until it returns: 202), 503 when neither PostgreSQL nor Redis could take them, so the provider
 * tries again. Never a 500 for an outage: the provider would treat it the same, but it is not a bug.
 */
function answer(res: Response, outcome: ReceiptOutcome): void {
  if (outcome === 'applied') {
    res.status(204).end();
  } else if (outcome === 'held') {
    res.status(202).end();
  } else {
    res
      .status(503)
      .set('Retry-After', String(RETRY_AFTER_SECONDS))
      .type('application/problem+json')
      .json({ title: 'Receipts cannot be stored right now; try again later', status: 503 });
  }
}

/**
 * Delivery receipts. Each is verified on the raw request before anything is read from it, stored raw
 * once, and applied idempotently: forged requests get 403, replays change nothing. While PostgreSQL
 * is unreachable, verified receipts wait in the receipts queue (see receipts.ts).
 */
export function registerWebhooks(app: Express, deps: WebhookDeps): void {
  // Twilio posts one status per request: the callbacks that arrive together are applied together.
  const receiveTwilioStatus = createReceiptGrouper(deps);
  app.post('/webhooks/sendgrid', express.raw({ type: '*/*', limit: '5mb' }), async (req, res) => {
    const sendgrid = deps.config.email.sendgrid;
    if (!sendgrid) throw new NotFoundError('SendGrid is not configured');
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const timestamp = req.get('X-Twilio-Email-Event-Webhook-Timestamp');
    const verified = verifySendgridSignature({
      publicKey: sendgrid.webhookPublicKey,
      rawBody,
      signature: req.get('X-Twilio-Email-Event-Webhook-Signature'),
      timestamp,
    });
    if (!verified) {
      deps.metrics.webhookRefusals.inc({ provider: 'sendgrid', reason: 'signature' });
      throw new ForbiddenError('signature does not verify');
    }
    // The provider's wall clock against ours: not the injected clock, which is business time
    // (calling hours, deadlines) and may be set anywhere in a test or a rehearsal.
    if (!sendgridTimestampIsFresh(timestamp, new Date(), sendgrid.webhookMaxAgeSeconds)) {
      deps.metrics.webhookRefusals.inc({ provider: 'sendgrid', reason: 'stale' });
      throw new ForbiddenError('the signed timestamp is too old: a replay, or a clock far off');
    }
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new ValidationError('body is not JSON');
    }
    answer(res, await receiveProviderEvents(deps, parseSendgridEvents(body)));
  });

  app.post(
    '/webhooks/twilio/status',
    express.urlencoded({ extended: false, limit: '100kb' }),
    async (req, res) => {
      const params = verifiedTwilioParams(deps, req);
      const event = parseTwilioStatus(positiveId(req.query.message), params);
      answer(res, await receiveTwilioStatus(event));
    },
  );
}
