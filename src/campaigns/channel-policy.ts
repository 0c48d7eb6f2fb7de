import type { Channel, Reachability } from '../channels/kinds.js';

/**
 * Which channel reaches a person, and which one to try next when it fails. Pure: no I/O.
 *
 * Order: what the person needs (a visually impaired person gets a call), then what they asked for,
 * then the campaign's fallback order; never a channel we hold no contact for, and never SMS to a
 * number that texted STOP.
 */
export const ACCESSIBILITY_NEEDS = [
  'visually_impaired',
  'hearing_impaired',
  'no_internet',
  'large_print',
] as const;
export type AccessibilityNeed = (typeof ACCESSIBILITY_NEEDS)[number];

export interface ChannelPolicy {
  /** Fallback order after the person's needs and preference. */
  order: Channel[];
}

export const DEFAULT_CHANNEL_POLICY: ChannelPolicy = { order: ['email', 'sms', 'voice', 'letter'] };

export interface ChannelChoiceInput {
  preferredChannel: Channel | null;
  accessibilityNeeds: readonly string[];
  reachable: Reachability;
}

function canReach(channel: Channel, reachable: Reachability): boolean {
  switch (channel) {
    case 'email':
      return reachable.email;
    case 'sms':
      return reachable.phone && !reachable.smsOptedOut;
    case 'voice':
      return reachable.phone;
    case 'letter':
      return reachable.postalAddress;
  }
}

export function channelOrder(person: ChannelChoiceInput, policy: ChannelPolicy): Channel[] {
  const needs = new Set(person.accessibilityNeeds);
  const first: Channel[] = [];
  if (needs.has('visually_impaired')) first.push('voice', 'letter');
  if (needs.has('no_internet')) first.push('letter', 'voice');
  const wanted = [...first, ...(person.preferredChannel ? [person.preferredChannel] : []), ...policy.order];
  const excluded = new Set<Channel>();
  // A call is no use to someone who cannot hear it; an email no use to someone who cannot read a screen
  // only when a call or a letter is possible, so email stays as a last resort for them.
  if (needs.has('hearing_impaired')) excluded.add('voice');
  const order = [...new Set(wanted)].filter(
    (channel) => !excluded.has(channel) && canReach(channel, person.reachable),
  );
  return order;
}

/** The channel for attempt number `attempt` (1-based), or null when every channel has been tried. */
export function channelForAttempt(
  person: ChannelChoiceInput,
  policy: ChannelPolicy,
  attempt: number,
): Channel | null {
  return channelOrder(person, policy)[attempt - 1] ?? null;
}
