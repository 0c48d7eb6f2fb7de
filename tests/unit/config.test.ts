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
