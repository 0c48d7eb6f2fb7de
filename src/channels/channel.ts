import type { Channel } from './kinds.js';
import type { MessageStatus } from '../deliveries/status.js';
import type { RenderedNotice } from '../notices/render.js';
import { ProviderError } from '../platform/errors.js';

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
 * Many emails that render the same, in one provider request: the content once, with substitution
 * tokens where each person's own parts go, and per person the values for them. A token stands for
 * a value in the text part and subject (raw) or in the HTML part (escaped): each has its own token.
 */
export interface OutgoingBatch {
  channel: 'email';
  subject: string;
  text: string;
  html: string;
  recipients: BatchRecipient[];
}

export interface BatchRecipient {
  messageId: number;
  to: { name: string | null; email: string };
  /** Token → this person's value, for every token the content holds. */
  substitutions: Record<string, string>;
  /** This person's own headers (List-Unsubscribe). */
  headers: Record<string, string>;
}

/**
 * A batch the provider refused because of some of its recipients (SendGrid: a 400 naming
 * `personalizations.N.to…`): nothing of it was sent. `indexes` are the refused recipients'
 * positions in the batch; the rest may go again without them.
 */
export class RejectedRecipientsError extends ProviderError {
  override name = 'RejectedRecipientsError';
  constructor(
    message: string,
    provider: string,
    readonly indexes: number[],
  ) {
    super(message, { provider, retryable: false, status: 400 });
  }
}

/** A message to look up at its provider: one whose outcome is unknown, or whose receipt never came. */
export interface LookupQuery {
  messageId: number;
  /** The provider's id when we hold it (a `sent` message); null after an unknown outcome. */
  providerMessageId: string | null;
  /** Decrypted only for the lookup, never logged: Twilio lists messages by number. */
  to: { email: string | null; phone: string | null };
  /** When our request went out: the provider's record is no older than this. */
  since: Date;
}

export type LookupAnswer =
  /** The provider has it: its id, and what it knows now, as a receipt would have said it. */
  | { kind: 'found'; providerMessageId: string; event: ProviderEvent }
  | { kind: 'not_found' }
  /** This account cannot be asked (no activity API, no permission): the answer is not "no". */
  | { kind: 'unavailable' };

/**
 * Every provider sits behind this. `send` resolves once the provider has accepted the message, or
 * throws a ProviderError that says whether trying again could help, and whether the outcome is
 * unknown (the request went out, no answer came back). `lookup`, where the provider offers one,
 * answers for each query in order; it throws when the provider could not be asked this time.
 * A provider without it (SMTP, the sandbox, letters) cannot be asked.
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  readonly provider: string;
  send(message: OutgoingMessage): Promise<SendResult>;
  /**
   * Sends a batch in one request (the same `SendResult` for every recipient), where the provider
   * takes many recipients per request. Throws as `send` does, or RejectedRecipientsError.
   */
  sendBatch?(batch: OutgoingBatch): Promise<SendResult>;
  /** The most recipients one `sendBatch` request may carry. */
  readonly maxBatch?: number;
  lookup?(queries: LookupQuery[]): Promise<LookupAnswer[]>;
  /**
   * How long after the request a "not found" from `lookup` may still be the provider's index lagging
   * rather than the truth: until then, it is asked again rather than resent.
   */
  readonly lookupLagMs?: number;
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
