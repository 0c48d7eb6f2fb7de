import { describe, expect, it } from 'vitest';
import {
  channelForAttempt,
  channelOrder,
  DEFAULT_CHANNEL_POLICY,
} from '../../src/campaigns/channel-policy.js';

const everything = { email: true, phone: true, postalAddress: true };

describe('channel policy', () => {
  it('uses the campaign order when the person has no preference', () => {
    expect(
      channelOrder(
        { preferredChannel: null, accessibilityNeeds: [], reachable: everything },
        DEFAULT_CHANNEL_POLICY,
      ),
    ).toEqual(['email', 'sms', 'voice', 'letter']);
  });

  it('puts the preferred channel first', () => {
    expect(
      channelForAttempt(
        { preferredChannel: 'sms', accessibilityNeeds: [], reachable: everything },
        DEFAULT_CHANNEL_POLICY,
        1,
      ),
    ).toBe('sms');
  });

  it('calls a visually impaired person before anything else, even when they prefer email', () => {
    const order = channelOrder(
      { preferredChannel: 'email', accessibilityNeeds: ['visually_impaired'], reachable: everything },
      DEFAULT_CHANNEL_POLICY,
    );
    expect(order[0]).toBe('voice');
  });

  it('never calls a person who cannot hear', () => {
    const order = channelOrder(
      { preferredChannel: 'voice', accessibilityNeeds: ['hearing_impaired'], reachable: everything },
      DEFAULT_CHANNEL_POLICY,
    );
    expect(order).not.toContain('voice');
  });

  it('skips channels with no contact on file and writes to people with only an address', () => {
    const reachable = { email: false, phone: false, postalAddress: true };
    expect(
      channelOrder({ preferredChannel: 'sms', accessibilityNeeds: [], reachable }, DEFAULT_CHANNEL_POLICY),
    ).toEqual(['letter']);
  });

  it('has no channel left once every one has been tried', () => {
    const reachable = { email: true, phone: false, postalAddress: false };
    expect(
      channelForAttempt(
        { preferredChannel: null, accessibilityNeeds: [], reachable },
        DEFAULT_CHANNEL_POLICY,
        2,
      ),
    ).toBeNull();
  });
});
