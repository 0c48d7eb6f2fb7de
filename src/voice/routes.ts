import express, { type Express, type Request } from 'express';
import type { Deps } from '../deps.js';
import { ForbiddenError, NotFoundError } from '../platform/errors.js';
import { verifyTwilioSignature } from '../channels/twilio.js';
import { composeStoredMessage } from '../campaigns/compose.js';
import { composeDepsWithCodes } from '../codes/compose.js';
import { answerTwiml, menuTwiml, unknownMessageTwiml } from './twiml.js';

type VoiceDeps = Pick<Deps, 'config' | 'db' | 'vault' | 'i18n' | 'logger' | 'channels' | 'clock' | 'queues'>;

function messageIdFrom(req: Request): number | null {
  const value = Number(req.query.message);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/**
 * The TwiML Twilio fetches when a call is answered, and again for each keypress. Both are signed by
 * Twilio like status callbacks; an unsigned or forged request gets 403 and learns nothing.
 */
export function registerVoiceRoutes(app: Express, deps: VoiceDeps): void {
  const form = express.urlencoded({ extended: false, limit: '100kb' });

  async function verifiedScript(req: Request) {
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
    const messageId = messageIdFrom(req);
    const message = messageId ? await composeStoredMessage(composeDepsWithCodes(deps), messageId) : null;
    const script = message?.channel === 'voice' ? message.content.call : null;
    return { params, messageId, message, script };
  }

  const menuUrl = (messageId: number) =>
    `${deps.config.publicBaseUrl}/webhooks/twilio/voice/menu?message=${messageId}`;

  app.post('/webhooks/twilio/voice', form, async (req, res) => {
    const { params, messageId, message, script } = await verifiedScript(req);
    res.type('text/xml');
    if (!message || !script || !messageId) {
      deps.logger.warn({ messageId }, 'call answered for a message that has no voice script');
      res.send(unknownMessageTwiml());
      return;
    }
    deps.logger.info({ messageId, answeredBy: params.AnsweredBy ?? null }, 'call answered');
    res.send(answerTwiml(script, message.locale, { menu: menuUrl(messageId) }, params.AnsweredBy));
  });

  app.post('/webhooks/twilio/voice/menu', form, async (req, res) => {
    const { params, messageId, message, script } = await verifiedScript(req);
    res.type('text/xml');
    if (!message || !script || !messageId) {
      res.send(unknownMessageTwiml());
      return;
    }
    deps.logger.info({ messageId, digits: params.Digits ?? null }, 'call menu choice');
    res.send(menuTwiml(script, message.locale, { menu: menuUrl(messageId) }, params.Digits));
  });
}
