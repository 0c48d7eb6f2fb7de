import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { ValidationError } from '../platform/errors.js';
import type { ChannelAdapter } from '../channels/channel.js';
import { storeLetter } from './store.js';

/**
 * The letter "provider": it files the rendered letter for the campaign's print batch. The letter is
 * printed from the batch PDF and posted by staff, who then mark the batch posted.
 */
export function createLetterAdapter(deps: { db: Queryable; vault: Vault }): ChannelAdapter {
  return {
    channel: 'letter',
    provider: 'print',
    async send(message) {
      if (!message.to.postalAddress)
        throw new ValidationError(`message ${message.messageId} has no postal address`);
      await storeLetter(deps.db, deps.vault, message);
      return { provider: 'print', providerMessageId: `letter-${message.messageId}` };
    },
  };
}
