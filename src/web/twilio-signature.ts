import type { Request } from 'express';
import type { Config } from '../config.js';
import { ForbiddenError, NotFoundError } from '../platform/errors.js';
import { verifyTwilioSignature } from '../channels/twilio.js';

/**
 * The posted parameters of a request Twilio signed; a forged or unsigned one is refused with 403
 * before anything reads it. Every Twilio webhook (status callbacks, call scripts and their menus)
 * comes through here, so the check is written once. The URL is the public one Twilio signed, not
 * the one a proxy forwarded to us.
 */
export function verifiedTwilioParams(
  deps: { config: Pick<Config, 'twilio' | 'publicBaseUrl'> },
  req: Request,
): Record<string, string> {
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
  return params;
}
