import type { Config } from '../config.js';
import type { ChannelAdapters } from './channel.js';
import type { SandboxChannels } from './sandbox.js';
import { createSendgridEmail } from './sendgrid.js';
import { createTwilioClient, createTwilioSms, createTwilioVoice, type TwilioSettings } from './twilio.js';

/** Picks each channel's provider from configuration. Business code never asks which one it got. */
export function createChannelAdapters(config: Config, sandbox: SandboxChannels): ChannelAdapters {
  const twilioSettings: TwilioSettings | null = config.twilio
    ? { ...config.twilio, publicBaseUrl: config.publicBaseUrl }
    : null;
  const twilioClient = twilioSettings ? createTwilioClient(twilioSettings) : null;

  const email =
    config.email.provider === 'sendgrid' && config.email.sendgrid
      ? createSendgridEmail({ ...config.email.sendgrid, from: config.email.from })
      : sandbox.adapter('email');
  const sms =
    config.sms.provider === 'twilio' && twilioClient && twilioSettings
      ? createTwilioSms(twilioClient, twilioSettings)
      : sandbox.adapter('sms');
  const voice =
    config.voice.provider === 'twilio' && twilioClient && twilioSettings
      ? createTwilioVoice(twilioClient, twilioSettings)
      : sandbox.adapter('voice');
  // Letters are printed from a PDF batch; until a batch is posted the sandbox keeps them.
  const letter = sandbox.adapter('letter');
  return { email, sms, voice, letter };
}
