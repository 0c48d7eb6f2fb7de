import type { Channel } from '../campaigns/channel-policy.js';
import type { MessageStatus } from '../deliveries/status.js';
import type { RenderedNotice } from '../notices/render.js';

/** One message on its way out: our id, where it goes, and what it says. */
export interface OutgoingMessage {
  messageId: number;
  channel: Channel;
  locale: string;
  /** The person asked for large print (letters are set in a larger type). */
  largePrint: boolean;
  to: { name: string | null; email: string | null; phone: string | null; postalAddress: string | null };
  content: RenderedNotice;
}

export interface SendResult {
  provider: string;
  providerMessageId: string;
}

/**
 * Every provider sits behind this. `send` resolves once the provider has accepted the message, or
 * throws a ProviderError that says whether trying again could help.
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  readonly provider: string;
  send(message: OutgoingMessage): Promise<SendResult>;
}

export type ChannelAdapters = Record<Channel, ChannelAdapter>;

/** A provider's delivery event, verified and translated to our vocabulary. */
export interface ProviderEvent {
  provider: string;
  /** Unique per provider: a replayed webhook carries the same id and changes nothing. */
  providerEventId: string;
  /** Our message id, carried through the provider in custom args or the callback URL. */
  messageId: number | null;
  providerMessageId: string | null;
  event: string;
  status: MessageStatus | null;
  reason: string | null;
  occurredAt: Date | null;
  raw: unknown;
}
