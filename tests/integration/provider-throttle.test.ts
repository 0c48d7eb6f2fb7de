import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProviders, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from '../support/providers.js';
import type { FakeOutcome, FakeProviders } from '../fakes/provider-server.js';
import { createTwilioClient, createTwilioSms, type TwilioSettings } from '../../src/channels/twilio.js';
import { createSendgridEmail } from '../../src/channels/sendgrid.js';
import type { ChannelAdapter, OutgoingMessage } from '../../src/channels/channel.js';
import { ProviderError } from '../../src/platform/errors.js';

/** What each adapter makes of a provider's 429, through the official SDKs against the fake providers. */
function message(channel: 'email' | 'sms'): OutgoingMessage {
  return {
    messageId: 7,
    channel,
    locale: 'en',
    largePrint: false,
    to: { name: null, email: 'ada@example.com', phone: '+447400123001', postalAddress: null },
    content: {
      channel,
      locale: 'en',
      dir: 'ltr',
      subject: 'About your data',
      text: 'Your reference is ABCD-EFGH',
      paragraphs: [],
      sections: [],
      footer: [],
      referenceCode: 'ABCD-EFGH',
      lookupUrl: 'https://candor.example/check',
      unsubscribeUrl: null,
      speech: null,
      call: null,
      sms: null,
      labels: { referenceLabel: 'Reference', lookupButton: 'Check', qrCaption: '', pageOf: '' },
    },
  };
}

async function refusal(adapter: ChannelAdapter, channel: 'email' | 'sms'): Promise<ProviderError> {
  const error = await adapter.send(message(channel)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("a provider's 429, as the adapters report it", () => {
  let fake: FakeProviders;
  let sms: ChannelAdapter;
  let email: ChannelAdapter;
  let outcome: FakeOutcome = { reply: 'accept' };

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    fake.setBehaviour(() => outcome);
    const settings: TwilioSettings = {
      accountSid: TWILIO_ACCOUNT_SID,
      authToken: TWILIO_AUTH_TOKEN,
      baseUrl: fake.baseUrl,
      from: '+15005550006',
      publicBaseUrl: 'http://127.0.0.1:9',
      timeoutMs: 5_000,
    };
    sms = createTwilioSms(createTwilioClient(settings), settings);
    email = createSendgridEmail({
      apiKey: 'SG.test',
      baseUrl: fake.baseUrl,
      from: 'notices@acme.example',
      timeoutMs: 5_000,
    });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("carries Twilio's Retry-After in seconds as a retryable 429", async () => {
    outcome = { reply: 'error', status: 429, headers: { 'Retry-After': '2' } };
    const error = await refusal(sms, 'sms');
    expect(error.details).toMatchObject({ status: 429, retryable: true, code: 20429, retryAfterMs: 2_000 });
  });

  it("carries Twilio's Retry-After given as an HTTP date", async () => {
    const before = Date.now();
    // HTTP dates are whole seconds.
    const at = new Date(Math.ceil(before / 1000) * 1000 + 30_000);
    outcome = { reply: 'error', status: 429, headers: { 'Retry-After': at.toUTCString() } };
    const { details } = await refusal(sms, 'sms');
    expect(details.retryAfterMs).toBeGreaterThan(25_000);
    expect(details.retryAfterMs).toBeLessThanOrEqual(at.getTime() - before);
  });

  it('says nothing of a wait when Twilio does not, and still sends once it accepts', async () => {
    outcome = { reply: 'error', status: 429 };
    const { details } = await refusal(sms, 'sms');
    expect(details.status).toBe(429);
    expect(details.retryAfterMs).toBeUndefined();
    outcome = { reply: 'accept', receipt: null };
    await expect(sms.send(message('sms'))).resolves.toMatchObject({ provider: 'twilio' });
  });

  it("carries SendGrid's Retry-After, and otherwise its X-RateLimit-Reset", async () => {
    outcome = { reply: 'error', status: 429, headers: { 'Retry-After': '3' } };
    expect((await refusal(email, 'email')).details).toMatchObject({ status: 429, retryAfterMs: 3_000 });

    outcome = { reply: 'error', status: 429 };
    const { details } = await refusal(email, 'email');
    // The fake, like SendGrid, says its window resets at the next whole second.
    expect(details.retryAfterMs).toBeGreaterThanOrEqual(0);
    expect(details.retryAfterMs).toBeLessThanOrEqual(1_000);
  });
});
