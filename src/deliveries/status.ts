/**
 * Message statuses and how receipts move them. Receipts arrive late, twice and out of order; the
 * rule is that a status only moves forward, so applying any set of receipts in any order ends at
 * the same place, and a late `sent` never overwrites `delivered`.
 */
export const MESSAGE_STATUSES = [
  'queued',
  'sending',
  // The provider call timed out or the connection dropped after our request went out: it may or may
  // not have been accepted. The provider is asked before anything is sent again.
  'unknown',
  'sent',
  'delivered',
  'answered',
  'bounced',
  'failed',
  'undelivered',
  'no_answer',
  'busy',
  'cancelled',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const FAILED_STATUSES = [
  'bounced',
  'failed',
  'undelivered',
  'no_answer',
  'busy',
] as const satisfies readonly MessageStatus[];
export const REACHED_STATUSES = ['delivered', 'answered'] as const satisfies readonly MessageStatus[];
/** Still on its way: counted as live everywhere (progress, audiences, completion), never as failed. */
export const IN_FLIGHT_STATUSES = [
  'queued',
  'sending',
  'unknown',
] as const satisfies readonly MessageStatus[];
/** Handed to a provider, or possibly handed (unknown): the person may already have heard. */
export const POSSIBLY_SENT_STATUSES = [
  'unknown',
  'sent',
  ...REACHED_STATUSES,
] as const satisfies readonly MessageStatus[];

const RANK: Record<MessageStatus, number> = {
  queued: 0,
  sending: 1,
  // Below `sent`: a receipt for a message whose outcome we did not learn moves it on as usual.
  unknown: 1,
  sent: 2,
  delivered: 3,
  answered: 3,
  bounced: 3,
  failed: 3,
  undelivered: 3,
  no_answer: 3,
  busy: 3,
  cancelled: 3,
};

export function isFailure(status: MessageStatus): boolean {
  return (FAILED_STATUSES as readonly MessageStatus[]).includes(status);
}

/** The status after a receipt, or null when the receipt changes nothing (stale, duplicate, after a terminal state). */
export function statusAfterReceipt(current: MessageStatus, incoming: MessageStatus): MessageStatus | null {
  return RANK[incoming] > RANK[current] ? incoming : null;
}

export function isMessageStatus(value: string): value is MessageStatus {
  return (MESSAGE_STATUSES as readonly string[]).includes(value);
}

/** One step of a run of receipts for one message: from what to what. */
export interface ReceiptAdvance {
  /** Index of the receipt in the run that made the step. */
  index: number;
  from: MessageStatus;
  to: MessageStatus;
}

/**
 * The steps a run of receipts makes, applied in order from `current`: exactly what applying them one
 * at a time would do (statusAfterReceipt each), so a batch applied at once ends where the same
 * receipts applied singly would.
 */
export function receiptAdvances(
  current: MessageStatus,
  incoming: readonly MessageStatus[],
): ReceiptAdvance[] {
  const steps: ReceiptAdvance[] = [];
  let status = current;
  incoming.forEach((candidate, index) => {
    const next = statusAfterReceipt(status, candidate);
    if (!next) return;
    steps.push({ index, from: status, to: next });
    status = next;
  });
  return steps;
}
