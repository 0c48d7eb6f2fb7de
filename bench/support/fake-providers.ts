import { startFakeProviders } from '../../tests/fakes/provider-server.js';
import { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../../tests/support/providers.js';

/**
 * The test suite's fake SendGrid and Twilio, in a process of its own so the requests it records do
 * not count towards the memory of the process being measured. Accepts everything, posts no
 * receipts, and prints its address as one JSON line.
 */
const fake = await startFakeProviders({
  twilioAccountSid: TWILIO_ACCOUNT_SID,
  twilioAuthToken: TWILIO_AUTH_TOKEN,
  keepSendgridMessages: false,
});
fake.setBehaviour((request) => {
  // Keep nothing but the count: a benchmark of 100,000 sends would otherwise hold every body.
  request.body = null;
  request.headers = {};
  return { reply: 'accept', receipt: null };
});
console.log(
  JSON.stringify({ baseUrl: fake.baseUrl, sendgridWebhookPublicKey: fake.sendgridWebhookPublicKey }),
);
process.on('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
