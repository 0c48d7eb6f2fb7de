import crypto from 'node:crypto';
import type { Channel } from './kinds.js';
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
  /**
   * Resolves when every simulated receipt has been applied (or held): shutdown and tests wait on it.
   * A receipt waiting to be tried again is given up and reported to onReceiptError.
   */
  drain(): Promise<void>;
}

/**
 * Like SendGrid, the sandbox posts a receipt again when Candor could not take it (PostgreSQL and
 * Redis both away, so it was neither applied nor held): after 1 s, 2 s, 4 s ... about two minutes
 * in all, so a rehearsal through a short double outage still ends with every receipt.
 */
const RECEIPT_ATTEMPTS = 8;
const RECEIPT_RETRY_BASE_MS = 1_000;

export function createSandbox(deps: SandboxDependencies): SandboxChannels {
  const pending = new Set<Promise<void>>();
  /** Retries waiting for their time: each entry gives its receipt up. */
  const waiting = new Map<NodeJS.Timeout, () => void>();
  let draining = false;

  function deliver(event: ProviderEvent, messageId: number, attempt: number): Promise<void> {
    return deps.applyEvent(event).catch((error: unknown) => {
      if (draining || attempt >= RECEIPT_ATTEMPTS) {
        deps.onReceiptError(error, messageId);
        return;
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            waiting.delete(timer);
            void deliver(event, messageId, attempt + 1).then(resolve);
          },
          RECEIPT_RETRY_BASE_MS * 2 ** (attempt - 1),
        );
        waiting.set(timer, () => {
          clearTimeout(timer);
          deps.onReceiptError(error, messageId);
          resolve();
        });
      });
    });
  }

  function simulateReceipt(message: OutgoingMessage, providerMessageId: string) {
    const status = DELIVERED[message.channel];
    if (!status) return;
    const event: ProviderEvent = {
      provider: 'sandbox',
      providerEventId: `${providerMessageId}-${status}`,
      messageId: message.messageId,
      providerMessageId,
      event: status,
      status,
      reason: null,
      occurredAt: new Date(),
      raw: { simulated: true, status },
    };
    const receipt = deliver(event, message.messageId, 1).finally(() => pending.delete(receipt));
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
      // Shutdown does not wait minutes for a retry: receipts still waiting are given up (and logged).
      draining = true;
      try {
        for (const giveUp of [...waiting.values()]) giveUp();
        waiting.clear();
        while (pending.size > 0) await Promise.all([...pending]);
      } finally {
        draining = false;
      }
    },
  };
}
