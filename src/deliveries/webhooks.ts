import express, { type Express } from 'express';
import type { Deps } from '../deps.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.js';
import { parseSendgridEvents, verifySendgridSignature } from '../channels/sendgrid.js';
import { parseTwilioStatus, verifyTwilioSignature } from '../channels/twilio.js';
import { applyProviderEvent } from './receipts.js';

type WebhookDeps = Pick<Deps, 'config' | 'db' | 'vault' | 'clock' | 'logger' | 'queues'>;

function messageIdFrom(query: unknown): number | null {
  const value =
    typeof query === 'object' && query !== null && 'message' in query ? Number(query.message) : NaN;
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/**
 * Delivery receipts. Each is verified on the raw request before anything is read from it, stored raw
 * once, and applied idempotently: forged requests get 403, replays change nothing.
 */
export function registerWebhooks(app: Express, deps: WebhookDeps): void {
  app.post('/webhooks/sendgrid', express.raw({ type: '*/*', limit: '5mb' }), async (req, res) => {
    const sendgrid = deps.config.email.sendgrid;
    if (!sendgrid) throw new NotFoundError('SendGrid is not configured');
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verified = verifySendgridSignature({
      publicKey: sendgrid.webhookPublicKey,
      rawBody,
      signature: req.get('X-Twilio-Email-Event-Webhook-Signature'),
      timestamp: req.get('X-Twilio-Email-Event-Webhook-Timestamp'),
    });
    if (!verified) throw new ForbiddenError('signature does not verify');
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new ValidationError('body is not JSON');
    }
    const events = parseSendgridEvents(body);
    for (const event of events) await applyProviderEvent(deps, event);
    res.status(204).end();
  });

  app.post(
    '/webhooks/twilio/status',
    express.urlencoded({ extended: false, limit: '100kb' }),
    async (req, res) => {
      const twilio = deps.config.twilio;
      if (!twilio) throw new NotFoundError('Twilio is not configured');
      const params = (req.body ?? {}) as Record<string, string>;
      const verified = verifyTwilioSignature({
        authToken: twilio.authToken,
        signature: req.get('X-Twilio-Signature'),
        url: deps.config.publicBaseUrl + req.originalUrl,
        params,
      });
      if (!verified) throw new ForbiddenError('signature does not verify');
      const event = parseTwilioStatus(messageIdFrom(req.query), params);
      await applyProviderEvent(deps, event);
      res.status(204).end();
    },
  );
}
