import { describe, expect, it } from 'vitest';
import { classifyCallFailure } from '../../src/channels/outcome.js';

/** Errors shaped as the SDKs raise them: axios (under twilio and @sendgrid/client) and nodemailer. */
function withFields(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('what a failed provider call says about the message', () => {
  it('calls a time-out after the request went out unknown', () => {
    expect(classifyCallFailure(withFields('timeout of 1000ms exceeded', { code: 'ECONNABORTED' }))).toBe(
      'unknown',
    );
    expect(classifyCallFailure(withFields('timeout exceeded', { code: 'ETIMEDOUT' }))).toBe('unknown');
  });

  it('calls a connection dropped mid-response unknown', () => {
    expect(classifyCallFailure(withFields('socket hang up', { code: 'ECONNRESET' }))).toBe('unknown');
    expect(classifyCallFailure(withFields('write EPIPE', { code: 'EPIPE' }))).toBe('unknown');
    expect(classifyCallFailure(new Error('socket hang up'))).toBe('unknown');
  });

  it('knows a request that never reached the provider was not sent', () => {
    expect(
      classifyCallFailure(withFields('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' })),
    ).toBe('not_sent');
    expect(
      classifyCallFailure(withFields('getaddrinfo ENOTFOUND api.twilio.com', { code: 'ENOTFOUND' })),
    ).toBe('not_sent');
    expect(classifyCallFailure(new TypeError('something else went wrong'))).toBe('not_sent');
    // nodemailer's wrapping of a refused connection.
    expect(
      classifyCallFailure(
        withFields('connect ECONNREFUSED 127.0.0.1:1', {
          code: 'ESOCKET',
          originalCode: 'ECONNREFUSED',
          syscall: 'connect',
          command: 'CONN',
        }),
      ),
    ).toBe('not_sent');
  });

  it('takes any provider answer as the outcome, even an error status', () => {
    // twilio's RestException carries `status`; @sendgrid/client's ResponseError the status as `code`.
    expect(classifyCallFailure(withFields('Too Many Requests', { status: 429 }))).toBe('answered');
    expect(classifyCallFailure(withFields('Internal Server Error', { code: 500 }))).toBe('answered');
    expect(
      classifyCallFailure(
        withFields('Request failed with status code 503', {
          code: 'ERR_BAD_RESPONSE',
          response: { status: 503 },
        }),
      ),
    ).toBe('answered');
    expect(
      classifyCallFailure(withFields('550 mailbox unavailable', { responseCode: 550, code: 'EENVELOPE' })),
    ).toBe('answered');
  });

  it('tells an SMTP time-out before the mail was handed over from one after', () => {
    expect(
      classifyCallFailure(
        withFields('Connection timeout', { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT' }),
      ),
    ).toBe('not_sent');
    expect(
      classifyCallFailure(
        withFields('Greeting never received', { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT' }),
      ),
    ).toBe('not_sent');
    expect(
      classifyCallFailure(withFields('Timeout', { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT' })),
    ).toBe('unknown');
    expect(classifyCallFailure(withFields('read ECONNRESET', { code: 'ESOCKET' }))).toBe('unknown');
  });
});
