import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('configuration', () => {
  it('starts with safe local defaults and the sandbox providers', () => {
    const config = parseConfig({});
    expect(config.email.provider).toBe('sandbox');
    expect(config.sms.provider).toBe('sandbox');
    expect(config.voice.provider).toBe('sandbox');
    expect(config.port).toBe(3000);
  });

  it('listens on loopback only while the development secrets are in use, and refuses to do otherwise', () => {
    const secrets = {
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOOKUP_HMAC_KEY: Buffer.alloc(32, 8).toString('base64'),
      SESSION_SECRET: 'a-real-session-secret-of-at-least-32-characters',
    };
    expect(parseConfig({}).listenHost).toBe('127.0.0.1');
    expect(parseConfig({ ...secrets, SESSION_SECRET: '' }).listenHost).toBe('127.0.0.1');
    expect(parseConfig(secrets).listenHost).toBeUndefined();
    expect(parseConfig({ ...secrets, HOST: '10.0.0.5' }).listenHost).toBe('10.0.0.5');
    expect(() => parseConfig({ HOST: '0.0.0.0' })).toThrow(
      /development .* may only be used on a loopback address/,
    );
    expect(parseConfig({ HOST: '::1' }).listenHost).toBe('::1');
  });

  it('lists every missing or malformed variable in one message', () => {
    let error: unknown;
    try {
      parseConfig({
        PORT: 'eighty',
        EMAIL_PROVIDER: 'sendgrid',
        SMS_PROVIDER: 'twilio',
        ENCRYPTION_KEY: 'short',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/ENCRYPTION_KEY must be 32 random bytes/);
    expect(problems).toMatch(/SENDGRID_API_KEY is required when EMAIL_PROVIDER=sendgrid/);
    expect(problems).toMatch(/TWILIO_AUTH_TOKEN is required when SMS_PROVIDER=twilio/);
  });

  it('refuses the development secrets in production', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/ENCRYPTION_KEY must be set in production/);
  });

  it('treats an empty variable as not set', () => {
    expect(parseConfig({ SENDGRID_API_KEY: '', PORT: '' }).port).toBe(3000);
  });
});

describe('sending settings', () => {
  it('refuses a provider time-out as long as the time a send may take before it counts as abandoned', () => {
    expect(() => parseConfig({ PROVIDER_TIMEOUT_SECONDS: '30', SEND_TIMEOUT_SECONDS: '30' })).toThrow(
      /PROVIDER_TIMEOUT_SECONDS must be shorter than SEND_TIMEOUT_SECONDS/,
    );
    const { sending } = parseConfig({ PROVIDER_TIMEOUT_SECONDS: '2.5', UNKNOWN_RESEND_AFTER_SECONDS: '600' });
    expect(sending.providerTimeoutMs).toBe(2_500);
    expect(sending.unknownResendAfterMs).toBe(600_000);
  });

  it('reads rate limits per channel, calling hours and the reconciler interval', () => {
    const { sending } = parseConfig({
      SMS_RATE_PER_SECOND: '3',
      VOICE_RATE_PER_SECOND: '0.5',
      CALLING_HOURS: '09:30-20:00',
      DEFAULT_TIME_ZONE: 'Europe/Paris',
      RECONCILE_EVERY_SECONDS: '30',
    });
    expect(sending.ratePerSecond).toMatchObject({ sms: 3, voice: 0.5 });
    expect(sending.callingHours).toEqual({ startMinute: 570, endMinute: 1200 });
    expect(sending.defaultTimeZone).toBe('Europe/Paris');
    expect(sending.reconcileEveryMs).toBe(30_000);
  });

  it('defaults to 08:00–21:00 calling hours', () => {
    expect(parseConfig({}).sending.callingHours).toEqual({ startMinute: 480, endMinute: 1260 });
  });

  it('explains malformed calling hours, zones and rates', () => {
    let error: unknown;
    try {
      parseConfig({
        CALLING_HOURS: '21:00-08:00',
        DEFAULT_TIME_ZONE: 'Atlantis/Capital',
        SMS_RATE_PER_SECOND: '0',
      });
    } catch (caught) {
      error = caught;
    }
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/CALLING_HOURS must start before it ends/);
    expect(problems).toMatch(/DEFAULT_TIME_ZONE must be an IANA time zone/);
    expect(problems).toMatch(/SMS_RATE_PER_SECOND must be at least 0.01/);
  });
});
