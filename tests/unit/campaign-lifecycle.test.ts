import { describe, expect, it } from 'vitest';
import { assertCanApprove, nextCampaignStatus } from '../../src/campaigns/lifecycle.js';
import { summarizeProgress } from '../../src/campaigns/progress.js';
import { ConflictError, ForbiddenError } from '../../src/platform/errors.js';

describe('campaign lifecycle', () => {
  it('goes from draft through approval to sending and completed', () => {
    let status = nextCampaignStatus('draft', 'submit');
    expect(status).toBe('awaiting_approval');
    status = nextCampaignStatus(status, 'approve');
    status = nextCampaignStatus(status, 'start');
    expect(status).toBe('sending');
    expect(nextCampaignStatus(status, 'complete')).toBe('completed');
  });

  it('pauses, resumes and cancels a send', () => {
    expect(nextCampaignStatus('sending', 'pause')).toBe('paused');
    expect(nextCampaignStatus('paused', 'resume')).toBe('sending');
    expect(nextCampaignStatus('paused', 'cancel')).toBe('cancelled');
  });

  it('refuses to send a campaign nobody approved', () => {
    expect(() => nextCampaignStatus('awaiting_approval', 'start')).toThrow(ConflictError);
    expect(() => nextCampaignStatus('draft', 'start')).toThrow(/cannot be started/);
  });

  it('never resumes a cancelled campaign', () => {
    expect(() => nextCampaignStatus('cancelled', 'resume')).toThrow(/cancelled cannot be resumed/);
  });

  it('refuses approval by the person who created the campaign', () => {
    expect(() => assertCanApprove({ createdBy: 7 }, 7)).toThrow(ForbiddenError);
    expect(() => assertCanApprove({ createdBy: 7 }, 8)).not.toThrow();
  });
});

describe('campaign progress', () => {
  it('adds counters per channel and status into what staff see', () => {
    const progress = summarizeProgress(
      {
        id: 1,
        status: 'sending',
        audienceSize: 10,
        exhaustedCount: 1,
        skippedCount: 0,
        fanoutComplete: true,
      },
      [
        { channel: 'email', status: 'delivered', n: 5 },
        { channel: 'email', status: 'bounced', n: 2 },
        { channel: 'sms', status: 'queued', n: 2 },
        { channel: 'letter', status: 'sent', n: 1 },
        { channel: 'none', status: 'failed', n: 1 },
      ],
    );
    expect(progress.byChannel.email!.delivered).toBe(5);
    expect(progress.totals.failed).toBe(1);
    expect(progress.reached).toBe(5);
    expect(progress.inFlight).toBe(2);
    expect(progress.percent).toBe(70); // 5 reached + 1 exhausted + 1 letter of 10
  });

  it('counts a bounced email as a failed email even when the SMS after it reached the person', () => {
    const progress = summarizeProgress(
      {
        id: 1,
        status: 'completed',
        audienceSize: 1,
        exhaustedCount: 0,
        skippedCount: 2,
        fanoutComplete: true,
      },
      [
        { channel: 'email', status: 'bounced', n: 1 },
        { channel: 'sms', status: 'delivered', n: 1 },
      ],
    );
    expect(progress.byChannel.email!.bounced).toBe(1);
    expect(progress.byChannel.sms!.delivered).toBe(1);
    expect([progress.reached, progress.people, progress.settled, progress.skipped]).toEqual([1, 1, 1, 2]);
    expect(progress.percent).toBe(100);
  });

  it('never says 100% while the fan-out is still reading the audience', () => {
    const progress = summarizeProgress(
      {
        id: 1,
        status: 'sending',
        audienceSize: 3,
        exhaustedCount: 0,
        skippedCount: 0,
        fanoutComplete: false,
      },
      [{ channel: 'email', status: 'delivered', n: 3 }],
    );
    expect(progress.percent).toBe(99);
  });
});
