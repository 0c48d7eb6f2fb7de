import express, { type Express, type Request } from 'express';
import type { Deps } from '../deps.js';
import { verifiedTwilioParams } from '../web/twilio-signature.js';
import { composeStoredMessage } from '../campaigns/compose.js';
import { composeDepsWithCodes } from '../codes/compose.js';
import { answerTwiml, menuTwiml, unknownMessageTwiml } from './twiml.js';
import { positiveId } from '../platform/ids.js';

type VoiceDeps = Pick<Deps, 'config' | 'db' | 'vault' | 'i18n' | 'logger' | 'channels' | 'clock' | 'queues'>;

/**
 * The TwiML Twilio fetches when a call is answered, and again for each keypress. Both are signed by
 * Twilio like status callbacks; an unsigned or forged request gets 403 and learns nothing.
 */
export function registerVoiceRoutes(app: Express, deps: VoiceDeps): void {
  const form = express.urlencoded({ extended: false, limit: '100kb' });

  async function verifiedScript(req: Request) {
    const params = verifiedTwilioParams(deps, req);
    const messageId = positiveId(req.query.message);
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
