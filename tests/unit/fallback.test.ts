import { describe, expect, it } from 'vitest';
import { planAfterFailure } from '../../src/campaigns/fallback.js';

const order = ['email', 'sms', 'voice', 'letter'] as const;

describe('fallback after a permanent failure', () => {
  it('moves a bounced email to SMS', () => {
    expect(
      planAfterFailure({
        order: [...order],
        failedChannel: 'email',
        failedStatus: 'bounced',
        triesOnChannel: 1,
        noAnswerTries: 2,
      }),
    ).toEqual({ kind: 'next_channel', channel: 'sms' });
  });

  it('moves a failed SMS to a call', () => {
    expect(
      planAfterFailure({
        order: [...order],
        failedChannel: 'sms',
        failedStatus: 'undelivered',
        triesOnChannel: 1,
        noAnswerTries: 2,
      }),
    ).toEqual({ kind: 'next_channel', channel: 'voice' });
  });

  it('calls again later when nobody answered, until the tries run out', () => {
    const first = planAfterFailure({
      order: [...order],
      failedChannel: 'voice',
      failedStatus: 'no_answer',
      triesOnChannel: 1,
      noAnswerTries: 2,
    });
    expect(first).toMatchObject({ kind: 'retry_channel', channel: 'voice' });
    expect(
      planAfterFailure({
        order: [...order],
        failedChannel: 'voice',
        failedStatus: 'busy',
        triesOnChannel: 2,
        noAnswerTries: 2,
      }),
    ).toEqual({ kind: 'next_channel', channel: 'letter' });
  });

  it('does not ring again a number that failed outright', () => {
    expect(
      planAfterFailure({
        order: [...order],
        failedChannel: 'voice',
        failedStatus: 'failed',
        triesOnChannel: 1,
        noAnswerTries: 3,
      }),
    ).toEqual({ kind: 'next_channel', channel: 'letter' });
  });

  it('is exhausted after the last channel', () => {
    expect(
      planAfterFailure({
        order: ['email', 'sms'],
        failedChannel: 'sms',
        failedStatus: 'failed',
        triesOnChannel: 1,
        noAnswerTries: 2,
      }),
    ).toEqual({ kind: 'exhausted' });
  });
});
