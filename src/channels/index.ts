import type { Config } from '../config.js';
import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { createLetterAdapter } from '../letters/adapter.js';
import type { ChannelAdapter, ChannelAdapters } from './channel.js';
import type { SandboxChannels } from './sandbox.js';
import { createSendgridEmail } from './sendgrid.js';
import { createSmtpEmail } from './smtp.js';
import { replyAddress } from './reply-address.js';
import { createTwilioClient, createTwilioSms, createTwilioVoice, type TwilioSettings } from './twilio.js';

/** Picks each channel's provider from configuration. Business code never asks which one it got. */
export function createChannelAdapters(
  config: Config,
  sandbox: SandboxChannels,
  store: { db: Queryable; vault: Vault },
): ChannelAdapters {
  const twilioSettings: TwilioSettings | null = config.twilio
    ? { ...config.twilio, publicBaseUrl: config.publicBaseUrl, timeoutMs: config.sending.providerTimeoutMs }
    : null;
  const twilioClient = twilioSettings ? createTwilioClient(twilioSettings) : null;
  // Only campaign messages name a person; an answer from the support queue is replied to by address.
  const inboundDomain = config.inboundEmail?.domain ?? null;
  const replyTo = (messageId: number) =>
    inboundDomain && messageId > 0 ? replyAddress(config.lookupHmacKey, inboundDomain, messageId) : null;

  const email =
    config.email.provider === 'sendgrid' && config.email.sendgrid
      ? createSendgridEmail({
          ...config.email.sendgrid,
          from: config.email.from,
          timeoutMs: config.sending.providerTimeoutMs,
          replyTo,
        })
      : config.email.provider === 'smtp' && config.email.smtp
        ? createSmtpEmail({
            url: config.email.smtp.url,
            from: config.email.from,
            timeoutMs: config.sending.providerTimeoutMs,
            replyTo,
          })
        : sandbox.adapter('email');
  const sms =
    config.sms.provider === 'twilio' && twilioClient && twilioSettings
      ? createTwilioSms(twilioClient, twilioSettings)
      : sandbox.adapter('sms');
  const voice =
    config.voice.provider === 'twilio' && twilioClient && twilioSettings
      ? createTwilioVoice(twilioClient, twilioSettings)
      : sandbox.adapter('voice');
  // Letters are filed for the campaign's print batch; outside production the sandbox outbox shows them too.
  const printed = createLetterAdapter(store);
  const outbox = sandbox.adapter('letter');
  const letter: ChannelAdapter = {
    channel: 'letter',
    provider: printed.provider,
    async send(message) {
      const result = await printed.send(message);
      if (config.env !== 'production') await outbox.send(message);
      return result;
    },
  };
  return { email, sms, voice, letter };
}
