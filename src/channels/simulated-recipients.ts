import type { Channel } from './kinds.js';
import type { MessageStatus } from '../deliveries/status.js';

/**
 * Contacts that can never belong to a real person, which the sandbox provider answers with the
 * receipt a real provider would send for a bounce, a failed SMS, a call nobody picks up, a busy
 * line or a late delivery — so staff can rehearse a send and its escalation before the day. Pure.
 *
 * - Email on the `.invalid` top-level domain (RFC 2606: it never resolves): `bounce@`, `late@`,
 *   `delivered@simulator.candor.invalid`, with any `+tag` so many people can share one behaviour
 *   (an import merges people by contact, so each needs an address of their own).
 * - Phones in ranges set aside for drama (UK Ofcom +44 7700 900000-900999; North America
 *   555-0100 to 555-0199 in any area code): the digit after `900` or `555-01` picks the behaviour.
 *
 * Every other contact (and every contact in these ranges without a behaviour) is delivered at once,
 * as the sandbox always did.
 */
export const SIMULATOR_EMAIL_DOMAIN = 'simulator.candor.invalid';

export type SimulatedBehaviour =
  /** Delivered (an email or SMS) or answered (a call) at once. */
  | 'delivered'
  /** Delivered or answered, but the receipt comes after the sandbox's late delay. */
  | 'late'
  /** Email: a hard bounce, the mailbox does not exist. */
  | 'bounce'
  /** SMS undelivered (the handset is unreachable); calls to the number are answered. */
  | 'sms_fails'
  /** Calls ring out unanswered; SMS to the number are delivered. */
  | 'no_answer'
  /** Calls find the line busy; SMS to the number are delivered. */
  | 'busy'
  /** Nothing gets through by phone: SMS undelivered and calls unanswered. */
  | 'unreachable';

const EMAIL_BEHAVIOURS: Record<string, SimulatedBehaviour> = {
  delivered: 'delivered',
  bounce: 'bounce',
  late: 'late',
};

/** The digit that picks a phone behaviour: +44 7700 900**N**xx, or +1 NPA 555 01**N**x. */
const PHONE_BEHAVIOURS: Record<string, SimulatedBehaviour> = {
  '1': 'sms_fails',
  '2': 'no_answer',
  '3': 'busy',
  '4': 'late',
  '5': 'unreachable',
};

const UK_DRAMA = /^\+447700900(\d)\d\d$/;
const NANP_FICTIONAL = /^\+1\d{3}55501(\d)\d$/;

/** Whether the address is one of the simulator's (any local part): never a real mailbox. */
export function isSimulatedEmail(email: string): boolean {
  return email.toLowerCase().endsWith(`@${SIMULATOR_EMAIL_DOMAIN}`);
}

/** Whether the E.164 number lies in a range reserved for fiction: never a real subscriber. */
export function isSimulatedPhone(phone: string): boolean {
  return UK_DRAMA.test(phone) || NANP_FICTIONAL.test(phone);
}

export function emailBehaviour(email: string): SimulatedBehaviour {
  if (!isSimulatedEmail(email)) return 'delivered';
  const local = email.toLowerCase().split('@')[0]!.split('+')[0]!;
  return EMAIL_BEHAVIOURS[local] ?? 'delivered';
}

export function phoneBehaviour(phone: string): SimulatedBehaviour {
  const digit = UK_DRAMA.exec(phone)?.[1] ?? NANP_FICTIONAL.exec(phone)?.[1];
  return (digit && PHONE_BEHAVIOURS[digit]) || 'delivered';
}

/** One receipt as the provider would post it, in our words: what happened, and after how long. */
export interface SimulatedReceipt {
  /** The provider's own name for the event (SendGrid's `bounce`, Twilio's `no-answer`). */
  event: string;
  status: MessageStatus;
  reason: string | null;
  late: boolean;
}

/**
 * The receipt the sandbox posts for a message, or null when none comes back (a letter is "sent"
 * when staff post the batch; nobody reports its delivery). Reasons say "simulated" so that a
 * rehearsal's failures can never be mistaken for real ones in a report.
 */
export function simulatedReceipt(
  channel: Channel,
  to: { email: string | null; phone: string | null },
): SimulatedReceipt | null {
  switch (channel) {
    case 'email': {
      const behaviour = to.email ? emailBehaviour(to.email) : 'delivered';
      if (behaviour === 'bounce')
        return {
          event: 'bounce',
          status: 'bounced',
          reason: 'simulated: 550 5.1.1 the email account does not exist',
          late: false,
        };
      return { event: 'delivered', status: 'delivered', reason: null, late: behaviour === 'late' };
    }
    case 'sms': {
      const behaviour = to.phone ? phoneBehaviour(to.phone) : 'delivered';
      if (behaviour === 'sms_fails' || behaviour === 'unreachable')
        return {
          event: 'undelivered',
          status: 'undelivered',
          reason: 'simulated: Twilio error 30003, unreachable handset',
          late: false,
        };
      return { event: 'delivered', status: 'delivered', reason: null, late: behaviour === 'late' };
    }
    case 'voice': {
      const behaviour = to.phone ? phoneBehaviour(to.phone) : 'delivered';
      if (behaviour === 'no_answer' || behaviour === 'unreachable')
        return { event: 'no-answer', status: 'no_answer', reason: 'simulated: nobody answered', late: false };
      if (behaviour === 'busy')
        return { event: 'busy', status: 'busy', reason: 'simulated: the line was busy', late: false };
      return { event: 'completed', status: 'answered', reason: null, late: behaviour === 'late' };
    }
    case 'letter':
      return null;
  }
}
