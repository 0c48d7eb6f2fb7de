import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('channel settings', () => {
  it('asks for SMTP_URL when email goes over SMTP, and refuses one that is not an SMTP URL', () => {
    expect(() => parseConfig({ EMAIL_PROVIDER: 'smtp' })).toThrow(
      /SMTP_URL is required when EMAIL_PROVIDER=smtp/,
    );
    expect(() => parseConfig({ EMAIL_PROVIDER: 'smtp', SMTP_URL: 'http://mail.example.com' })).toThrow(
      ConfigError,
    );
    const config = parseConfig({ EMAIL_PROVIDER: 'smtp', SMTP_URL: 'smtp://u:p@mail.example.com:587' });
    expect(config.email.smtp).toEqual({ url: 'smtp://u:p@mail.example.com:587' });
  });

  it('folds letters for a DL envelope unless told C5, and knows no other', () => {
    expect(parseConfig({}).letters.envelope).toBe('DL');
    expect(parseConfig({ LETTER_ENVELOPE: 'C5' }).letters.envelope).toBe('C5');
    expect(() => parseConfig({ LETTER_ENVELOPE: 'C4' })).toThrow(/LETTER_ENVELOPE/);
  });
});
