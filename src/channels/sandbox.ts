import crypto from 'node:crypto';
import type { Channel } from './kinds.js';
import type { ChannelAdapter, OutgoingMessage, ProviderEvent } from './channel.js';
import { simulatedReceipt } from './simulated-recipients.js';

/**
 * The default provider: accepts everything, keeps what would have been sent for the staff outbox,
 * and reports it delivered a moment later, so the whole product runs and demos with no accounts.
 * Simulated recipients (simulated-recipients.ts) get the receipt a real provider would send them
 * instead: a bounce, an undelivered SMS, a call unanswered or busy, or a delivery that comes late.
 */
export interface SandboxDependencies {
  recordOutbox(message: OutgoingMessage): Promise<void>;
  applyEvent(event: ProviderEvent): Promise<void>;
  onReceiptError(error: unknown, messageId: number): void;
  /** How long a simulated late delivery takes to be reported (SANDBOX_LATE_RECEIPT_SECONDS). */
  lateReceiptMs: number;
}

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
  /** Late receipts waiting for their time: each entry posts its receipt at once. */
  const late = new Map<NodeJS.Timeout, () => void>();
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
    const simulated = simulatedReceipt(message.channel, message.to);
    if (!simulated) return;
    const { status, reason } = simulated;
    const post = () => {
      const event: ProviderEvent = {
        provider: 'sandbox',
        providerEventId: `${providerMessageId}-${status}`,
        messageId: message.messageId,
        providerMessageId,
        event: simulated.event,
        status,
        reason,
        occurredAt: new Date(),
        raw: { simulated: true, event: simulated.event, status, reason },
      };
      return deliver(event, message.messageId, 1);
    };
    const receipt = (
      simulated.late
        ? new Promise<void>((resolve) => {
            const postNow = () => {
              clearTimeout(timer);
              late.delete(timer);
              void post().then(resolve);
            };
            const timer = setTimeout(postNow, deps.lateReceiptMs);
            late.set(timer, postNow);
          })
        : post()
    ).finally(() => pending.delete(receipt));
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
        // A late receipt is posted now rather than never: nothing else would ever report it.
        for (const postNow of [...late.values()]) postNow();
        late.clear();
        for (const giveUp of [...waiting.values()]) giveUp();
        waiting.clear();
        while (pending.size > 0) await Promise.all([...pending]);
      } finally {
        draining = false;
      }
    },
  };
}
