import { describe, expect, it } from 'vitest';
import {
  IN_FLIGHT_STATUSES,
  MESSAGE_STATUSES,
  receiptAdvances,
  statusAfterReceipt,
  type MessageStatus,
} from '../../src/deliveries/status.js';

function applyAll(receipts: MessageStatus[]): MessageStatus {
  return receipts.reduce<MessageStatus>(
    (current, incoming) => statusAfterReceipt(current, incoming) ?? current,
    'queued',
  );
}

describe('message status', () => {
  it('never lets a late sent overwrite delivered', () => {
    expect(statusAfterReceipt('delivered', 'sent')).toBeNull();
  });

  it('ends in the same place whatever order the receipts arrive in', () => {
    expect(applyAll(['sending', 'sent', 'delivered'])).toBe('delivered');
    expect(applyAll(['delivered', 'sent', 'sending'])).toBe('delivered');
    expect(applyAll(['sent', 'bounced', 'sent'])).toBe('bounced');
  });

  it('ignores a duplicate receipt', () => {
    expect(statusAfterReceipt('sent', 'sent')).toBeNull();
  });

  it('lets a receipt settle a message whose send timed out, and counts it live until then', () => {
    expect(statusAfterReceipt('unknown', 'sent')).toBe('sent');
    expect(statusAfterReceipt('unknown', 'delivered')).toBe('delivered');
    expect(statusAfterReceipt('unknown', 'failed')).toBe('failed');
    expect(statusAfterReceipt('delivered', 'unknown')).toBeNull();
    expect(IN_FLIGHT_STATUSES).toContain('unknown');
  });

  it('keeps the first final outcome', () => {
    expect(statusAfterReceipt('bounced', 'delivered')).toBeNull();
    for (const status of MESSAGE_STATUSES) expect(statusAfterReceipt('cancelled', status)).toBeNull();
  });
});

describe('receiptAdvances (a batch of receipts for one message)', () => {
  it('ends where applying the receipts one at a time ends, in a chain of forward steps, for every run of three', () => {
    for (const current of MESSAGE_STATUSES)
      for (const a of MESSAGE_STATUSES)
        for (const b of MESSAGE_STATUSES)
          for (const c of MESSAGE_STATUSES) {
            const run = [a, b, c];
            const oneAtATime = run.reduce<MessageStatus>(
              (status, incoming) => statusAfterReceipt(status, incoming) ?? status,
              current,
            );
            const steps = receiptAdvances(current, run);
            expect(steps.at(-1)?.to ?? current).toBe(oneAtATime);
            steps.forEach((step, i) => {
              expect(step.from).toBe(i === 0 ? current : steps[i - 1]!.to);
              expect(step.to).toBe(run[step.index]);
              expect(statusAfterReceipt(step.from, step.to)).toBe(step.to);
            });
          }
  });

  it('keeps the first of two final outcomes: a bounce after delivered changes nothing', () => {
    expect(receiptAdvances('sent', ['delivered', 'bounced'])).toEqual([
      { index: 0, from: 'sent', to: 'delivered' },
    ]);
    expect(receiptAdvances('unknown', ['sent', 'sent', 'bounced'])).toEqual([
      { index: 0, from: 'unknown', to: 'sent' },
      { index: 2, from: 'sent', to: 'bounced' },
    ]);
  });
});
