import { describe, expect, it } from 'vitest';
import {
  IN_FLIGHT_STATUSES,
  MESSAGE_STATUSES,
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
