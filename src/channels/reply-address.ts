import crypto from 'node:crypto';

/**
 * The Reply-To of an outbound email: `reply+<messageId>.<tag>@<domain>`, so a reply names the message
 * (and so the person) it answers without carrying anything personal. The tag is a keyed hash of the
 * id: nobody can make an address that files their words under someone else. Pure.
 */
const TAG_CHARS = 20;

function tagOf(hmacKey: Buffer, messageId: number): string {
  return crypto
    .createHmac('sha256', hmacKey)
    .update(`reply-to\0${messageId}`)
    .digest('hex')
    .slice(0, TAG_CHARS);
}

export function replyAddress(hmacKey: Buffer, domain: string, messageId: number): string {
  return `reply+${messageId}.${tagOf(hmacKey, messageId)}@${domain}`;
}

/** The message id a reply address names, or null when it is not one of ours or its tag is wrong. */
export function messageIdFromReplyAddress(hmacKey: Buffer, domain: string, address: string): number | null {
  const match = /^reply\+(\d{1,15})\.([0-9a-f]+)@(.+)$/.exec(address.trim().toLowerCase());
  if (!match || match[3] !== domain.toLowerCase()) return null;
  const messageId = Number(match[1]);
  if (!Number.isSafeInteger(messageId) || messageId <= 0) return null;
  const expected = Buffer.from(tagOf(hmacKey, messageId));
  const given = Buffer.from(match[2]!);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? messageId : null;
}
