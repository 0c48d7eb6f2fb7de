import { withTransaction } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { ProviderEvent } from '../channels/channel.js';
import { followUpFailure, type NextAttemptDeps } from '../campaigns/next-attempt.js';
import { recordProviderEvent, type StatusChange } from './store.js';
import { isFailure } from './status.js';

export interface ReceiptDeps extends NextAttemptDeps {
  vault: Vault;
}

/**
 * A verified receipt, applied: stored once, the status moved forward only, and a permanent failure
 * (a bounce, an undelivered SMS, a call nobody answered) followed up on the person's next channel.
 * Storing and applying commit together: an event stored but not applied would make the provider's
 * retry look like a replay, and the status would never move. The follow-up has its own transaction;
 * the reconciler finishes it if this process dies first.
 */
export async function applyProviderEvent(
  deps: ReceiptDeps,
  event: ProviderEvent,
): Promise<StatusChange | null> {
  const receivedAt = deps.clock.now();
  const change = await withTransaction(deps.db, (tx) =>
    recordProviderEvent(tx, deps.vault, event, receivedAt),
  );
  if (change && isFailure(change.to)) await followUpFailure(deps, change.messageId);
  return change;
}
