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
 */
export async function applyProviderEvent(
  deps: ReceiptDeps,
  event: ProviderEvent,
): Promise<StatusChange | null> {
  const change = await recordProviderEvent(deps.db, deps.vault, event, deps.clock.now());
  if (change && isFailure(change.to)) await followUpFailure(deps, change.messageId);
  return change;
}
