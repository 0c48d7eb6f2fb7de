import crypto from 'node:crypto';
import type { Channel } from '../campaigns/channel-policy.js';
import type { ChannelAdapter, OutgoingMessage, ProviderEvent } from './channel.js';

/**
 * The default provider: accepts everything, keeps what would have been sent for the staff outbox,
 * and reports it delivered a moment later, so the whole product runs and demos with no accounts.
 */
export interface SandboxDependencies {
  recordOutbox(message: OutgoingMessage): Promise<void>;
  applyEvent(event: ProviderEvent): Promise<void>;
  onReceiptError(error: unknown, messageId: number): void;
}

const DELIVERED: Record<Channel, ProviderEvent['status']> = {
  email: 'delivered',
  sms: 'delivered',
  voice: 'answered',
  letter: null, // a letter is "sent" when staff mark the batch posted; nobody reports its delivery
};

export interface SandboxChannels {
  adapter(channel: Channel): ChannelAdapter;
  /** Resolves when every simulated receipt has been applied: shutdown and tests wait on it. */
  drain(): Promise<void>;
}

export function createSandbox(deps: SandboxDependencies): SandboxChannels {
  const pending = new Set<Promise<void>>();

  function simulateReceipt(message: OutgoingMessage, providerMessageId: string) {
    const status = DELIVERED[message.channel];
    if (!status) return;
    const receipt = deps
      .applyEvent({
        provider: 'sandbox',
        providerEventId: `${providerMessageId}-${status}`,
        messageId: message.messageId,
        providerMessageId,
        event: status,
        status,
        reason: null,
        occurredAt: new Date(),
        raw: { simulated: true, status },
      })
      .catch((error: unknown) => deps.onReceiptError(error, message.messageId))
      .finally(() => pending.delete(receipt));
    pending.add(receipt);
  }

  return {
    adapter(channel) {
      return {
        channel,
        provider: 'sandbox',
        async send(message) {
          await deps.recordOutbox(message);
          const providerMessageId = `sandbox-${crypto.randomUUID()}`;
          simulateReceipt(message, providerMessageId);
          return { provider: 'sandbox', providerMessageId };
        },
      };
    },
    async drain() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
