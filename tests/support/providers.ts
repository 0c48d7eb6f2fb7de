import { startFakeProviders, type FakeProviders } from '../fakes/provider-server.js';

export const TWILIO_ACCOUNT_SID = `AC${'0'.repeat(31)}1`;
export const TWILIO_AUTH_TOKEN = 'test-auth-token-0123456789abcdef';

/** Fake SendGrid and Twilio on loopback, and the environment that points Candor's real SDK adapters at them. */
export async function startProviders(): Promise<{ fake: FakeProviders; env: Record<string, string> }> {
  const fake = await startFakeProviders({
    twilioAccountSid: TWILIO_ACCOUNT_SID,
    twilioAuthToken: TWILIO_AUTH_TOKEN,
  });
  return {
    fake,
    env: {
      EMAIL_PROVIDER: 'sendgrid',
      EMAIL_FROM: 'Acme Bikes <notices@acme.example>',
      SENDGRID_API_KEY: 'SG.test-key',
      SENDGRID_API_BASE_URL: fake.baseUrl,
      SENDGRID_WEBHOOK_PUBLIC_KEY: fake.sendgridWebhookPublicKey,
      SMS_PROVIDER: 'twilio',
      VOICE_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN,
      TWILIO_API_BASE_URL: fake.baseUrl,
      TWILIO_FROM: '+15005550006',
    },
  };
}
