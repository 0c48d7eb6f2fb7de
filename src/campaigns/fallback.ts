import type { MessageStatus } from '../deliveries/status.js';
import type { Channel } from '../channels/kinds.js';

/**
 * What follows a permanent failure. Pure. A call that rang out (no answer, busy) is tried again a
 * few times, later, before the person moves on; any other failure moves them to the next channel of
 * their order; when none is left they are exhausted, which staff see.
 */
export type FallbackPlan =
  | { kind: 'retry_channel'; channel: Channel; afterMs: number }
  | { kind: 'next_channel'; channel: Channel }
  | { kind: 'exhausted' };

/** A person who did not pick up at 10:00 may at 10:30. */
export const NO_ANSWER_RETRY_DELAY_MS = 30 * 60_000;

const RANG_OUT: readonly MessageStatus[] = ['no_answer', 'busy'];

export function planAfterFailure(input: {
  /** The person's channel order (channelOrder). */
  order: readonly Channel[];
  /**
   * The order as it stood when the failed message was written, when it has lost a channel since (the
   * number texted STOP while its SMS was on the way): the next channel is the one after the failed
   * one there that the person can still be reached on.
   */
  orderBefore?: readonly Channel[];
  failedChannel: Channel;
  failedStatus: MessageStatus;
  /** Messages already tried on the failed channel for this person in this campaign, this one included. */
  triesOnChannel: number;
  noAnswerTries: number;
}): FallbackPlan {
  if (
    input.failedChannel === 'voice' &&
    RANG_OUT.includes(input.failedStatus) &&
    input.triesOnChannel < input.noAnswerTries
  ) {
    return { kind: 'retry_channel', channel: 'voice', afterMs: NO_ANSWER_RETRY_DELAY_MS };
  }
  const reference = input.orderBefore ?? input.order;
  const position = reference.indexOf(input.failedChannel);
  const next =
    position < 0 ? undefined : reference.slice(position + 1).find((channel) => input.order.includes(channel));
  return next ? { kind: 'next_channel', channel: next } : { kind: 'exhausted' };
}
