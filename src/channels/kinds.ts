/**
 * The channels a notice can go out on. They live here, with the adapters, because everything below
 * the campaigns (people, notices, the adapters themselves) needs them too.
 */
export const CHANNELS = ['email', 'sms', 'voice', 'letter'] as const;
export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}

/** Which kinds of contact we hold for a person: the channels that can reach them follow from it. */
export interface Reachability {
  email: boolean;
  phone: boolean;
  postalAddress: boolean;
  /** The number texted STOP: calls may still reach it, texts may not (src/inbound). */
  smsOptedOut?: boolean;
}
