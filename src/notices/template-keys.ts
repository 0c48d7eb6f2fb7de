import type { Channel } from '../channels/kinds.js';
import type { MessageKind } from './render.js';

/**
 * Which locale-file texts make up one kind of message on one channel: what staff may replace for an
 * incident. Pure, from the shape of locales/<lang>/notices.json.
 */
export function templateKeys(kind: MessageKind, channel: Channel, keysOfKind: readonly string[]): string[] {
  // Named by channel: "sms", "smsCode"… go in a text message, "voice", "voiceHelp"… in a call.
  const isSms = (key: string) => key.startsWith('sms');
  const isVoice = (key: string) => key.startsWith('voice');
  const keep =
    channel === 'sms' ? isSms : channel === 'voice' ? isVoice : (key: string) => !isSms(key) && !isVoice(key);
  return keysOfKind.filter(keep).map((key) => `${kind}.${key}`);
}
