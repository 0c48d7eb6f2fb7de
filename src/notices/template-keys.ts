import type { Channel } from '../campaigns/channel-policy.js';
import type { MessageKind } from './render.js';

/**
 * Which locale-file texts make up one kind of message on one channel: what staff may replace for an
 * incident. Pure, from the shape of locales/<lang>/notices.json.
 */
export function templateKeys(kind: MessageKind, channel: Channel, keysOfKind: readonly string[]): string[] {
  const voice = ['voice', 'voiceHelp', 'voiceReference'];
  if (channel === 'sms') return keysOfKind.filter((key) => key === 'sms').map((key) => `${kind}.${key}`);
  if (channel === 'voice')
    return keysOfKind.filter((key) => voice.includes(key)).map((key) => `${kind}.${key}`);
  return keysOfKind.filter((key) => key !== 'sms' && !voice.includes(key)).map((key) => `${kind}.${key}`);
}
