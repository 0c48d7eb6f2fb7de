import { describe, expect, it } from 'vitest';
import { createVault } from '../../src/platform/vault.js';
import { openReceipts, sealReceipts } from '../../src/deliveries/receipts.js';
import type { ProviderEvent } from '../../src/channels/channel.js';

describe('held receipts', () => {
  const vault = createVault({ current: Buffer.alloc(32, 1), previous: [] }, Buffer.alloc(32, 2));
  const event: ProviderEvent = {
    provider: 'sendgrid',
    providerEventId: 'ev:1',
    messageId: 7,
    providerMessageId: 'abc',
    event: 'bounce',
    status: 'bounced',
    reason: '550 5.1.1 <someone@example.com>: no such user',
    occurredAt: new Date('2026-01-02T03:04:05Z'),
    raw: { email: 'someone@example.com', event: 'bounce' },
  };

  it('come back exactly as they went in, dates included', () => {
    const receivedAt = new Date('2026-01-02T03:04:06Z');
    const held = openReceipts(
      vault,
      sealReceipts(vault, { receivedAt, events: [event, { ...event, occurredAt: null }] }),
    );
    expect(held).toEqual({ receivedAt, events: [event, { ...event, occurredAt: null }] });
  });

  it('show nothing of the person while held: the address is in the raw event and the bounce reason', () => {
    const sealed = sealReceipts(vault, { receivedAt: new Date(), events: [event] });
    expect(sealed).not.toContain('someone');
    expect(sealed).not.toContain('example.com');
  });
});
