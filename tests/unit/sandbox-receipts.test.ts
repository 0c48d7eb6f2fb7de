import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSandbox } from '../../src/channels/sandbox.js';
import type { OutgoingMessage, ProviderEvent } from '../../src/channels/channel.js';
import { UnavailableError } from '../../src/platform/errors.js';

/** Only what the sandbox reads: which channel, our id, and where it goes. */
const message = {
  messageId: 42,
  channel: 'email',
  to: { email: 'someone@example.com', phone: null },
} as OutgoingMessage;

describe('the sandbox’s simulated receipts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function sandboxFailing(times: number) {
    const applied: ProviderEvent[] = [];
    const lost: number[] = [];
    let failures = 0;
    const sandbox = createSandbox({
      recordOutbox: () => Promise.resolve(),
      applyEvent: (event) => {
        if (failures++ < times)
          return Promise.reject(new UnavailableError('PostgreSQL and Redis are both unreachable'));
        applied.push(event);
        return Promise.resolve();
      },
      onReceiptError: (_error, messageId) => lost.push(messageId),
      lateReceiptMs: 5_000,
    });
    return { sandbox, applied, lost, tries: () => failures };
  }

  it('posts a receipt Candor could not take again later, as SendGrid does, until it is taken', async () => {
    const { sandbox, applied, lost } = sandboxFailing(3);
    await sandbox.adapter('email').send(message);
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000);
    expect(applied.map((event) => [event.messageId, event.status])).toEqual([[42, 'delivered']]);
    expect(lost).toEqual([]);
    await sandbox.drain();
  });

  it('gives a receipt up after about two minutes of trying, and says so', async () => {
    const { sandbox, applied, lost, tries } = sandboxFailing(Infinity);
    await sandbox.adapter('email').send(message);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(tries()).toBe(8);
    expect(applied).toEqual([]);
    expect(lost).toEqual([42]);
  });

  it('does not hold shutdown for a retry: drain gives up what is waiting and reports it', async () => {
    const { sandbox, applied, lost } = sandboxFailing(Infinity);
    await sandbox.adapter('email').send(message);
    await vi.advanceTimersByTimeAsync(0);
    await sandbox.drain();
    expect(applied).toEqual([]);
    expect(lost).toEqual([42]);
  });
});
