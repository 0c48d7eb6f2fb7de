import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSandbox } from '../../src/channels/sandbox.js';
import type { OutgoingMessage, ProviderEvent } from '../../src/channels/channel.js';
import type { Channel } from '../../src/channels/kinds.js';
import {
  emailBehaviour,
  isSimulatedEmail,
  isSimulatedPhone,
  phoneBehaviour,
  simulatedReceipt,
} from '../../src/channels/simulated-recipients.js';
import { normalizeEmail, normalizePhone } from '../../src/people/contact.js';

describe('simulated recipients', () => {
  it('reads the behaviour from the address, whatever its case or +tag', () => {
    expect(emailBehaviour('bounce@simulator.candor.invalid')).toBe('bounce');
    expect(emailBehaviour('Bounce+Ada@Simulator.Candor.Invalid')).toBe('bounce');
    expect(emailBehaviour('late+7@simulator.candor.invalid')).toBe('late');
    expect(emailBehaviour('delivered@simulator.candor.invalid')).toBe('delivered');
    expect(emailBehaviour('anything@simulator.candor.invalid')).toBe('delivered');
    expect(emailBehaviour('bounce@example.com')).toBe('delivered');
  });

  it('reads the behaviour from the digit after 900 (UK drama range) or 555-01 (North American fiction)', () => {
    expect(phoneBehaviour('+447700900123')).toBe('sms_fails');
    expect(phoneBehaviour('+447700900200')).toBe('no_answer');
    expect(phoneBehaviour('+447700900399')).toBe('busy');
    expect(phoneBehaviour('+447700900450')).toBe('late');
    expect(phoneBehaviour('+447700900500')).toBe('unreachable');
    expect(phoneBehaviour('+447700900000')).toBe('delivered');
    expect(phoneBehaviour('+12025550123')).toBe('no_answer');
    expect(phoneBehaviour('+12025550155')).toBe('unreachable');
    expect(phoneBehaviour('+447400123456')).toBe('delivered');
    expect(phoneBehaviour('+12025551234')).toBe('delivered');
  });

  it('knows its own contacts from real ones', () => {
    expect(isSimulatedEmail('late@simulator.candor.invalid')).toBe(true);
    expect(isSimulatedEmail('someone@candor.invalid.example.com')).toBe(false);
    expect(isSimulatedPhone('+447700900999')).toBe(true);
    expect(isSimulatedPhone('+447700901000')).toBe(false);
    expect(isSimulatedPhone('+13125550100')).toBe(true);
    expect(isSimulatedPhone('+13125550200')).toBe(false);
  });

  it('survives import: the addresses and numbers in the README are valid after normalization', () => {
    expect(normalizeEmail(' Bounce+1@simulator.candor.invalid ')).toBe('bounce+1@simulator.candor.invalid');
    for (const phone of ['+44 7700 900100', '07700 900200', '+1 202 555 0130']) {
      const normalized = normalizePhone(phone, 'GB');
      expect(normalized, phone).not.toBeNull();
      expect(isSimulatedPhone(normalized!), phone).toBe(true);
    }
  });

  it('answers each channel as its provider would: SendGrid for email, Twilio for SMS and calls', () => {
    const to = (email: string | null, phone: string | null) => ({ email, phone });
    const receipt = (channel: Channel, email: string | null, phone: string | null) => {
      const answer = simulatedReceipt(channel, to(email, phone));
      return answer && [answer.event, answer.status, answer.late];
    };
    expect(receipt('email', 'bounce@simulator.candor.invalid', null)).toEqual(['bounce', 'bounced', false]);
    expect(receipt('email', 'late@simulator.candor.invalid', null)).toEqual(['delivered', 'delivered', true]);
    expect(receipt('sms', null, '+447700900100')).toEqual(['undelivered', 'undelivered', false]);
    expect(receipt('voice', null, '+447700900100')).toEqual(['completed', 'answered', false]);
    expect(receipt('voice', null, '+447700900200')).toEqual(['no-answer', 'no_answer', false]);
    expect(receipt('sms', null, '+447700900200')).toEqual(['delivered', 'delivered', false]);
    expect(receipt('voice', null, '+447700900300')).toEqual(['busy', 'busy', false]);
    expect(receipt('sms', null, '+447700900400')).toEqual(['delivered', 'delivered', true]);
    expect(receipt('voice', null, '+447700900400')).toEqual(['completed', 'answered', true]);
    expect(receipt('sms', null, '+447700900500')).toEqual(['undelivered', 'undelivered', false]);
    expect(receipt('voice', null, '+447700900500')).toEqual(['no-answer', 'no_answer', false]);
    expect(receipt('letter', null, '+447700900500')).toBeNull();
    expect(simulatedReceipt('sms', to(null, '+447700900100'))?.reason).toMatch(/^simulated: .*30003/);
  });
});

describe('the sandbox’s late receipts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function lateSandbox() {
    const applied: ProviderEvent[] = [];
    const sandbox = createSandbox({
      recordOutbox: () => Promise.resolve(),
      applyEvent: (event) => {
        applied.push(event);
        return Promise.resolve();
      },
      onReceiptError: () => undefined,
      lateReceiptMs: 20_000,
    });
    const message = (messageId: number, email: string) =>
      ({ messageId, channel: 'email', to: { email, phone: null } }) as OutgoingMessage;
    return { sandbox, applied, message };
  }

  it('reports a late recipient delivered only after the configured delay, others at once', async () => {
    const { sandbox, applied, message } = lateSandbox();
    await sandbox.adapter('email').send(message(1, 'late@simulator.candor.invalid'));
    await sandbox.adapter('email').send(message(2, 'someone@example.com'));
    await vi.advanceTimersByTimeAsync(19_000);
    expect(applied.map((event) => event.messageId)).toEqual([2]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(applied.map((event) => [event.messageId, event.status])).toEqual([
      [2, 'delivered'],
      [1, 'delivered'],
    ]);
  });

  it('posts a late receipt at once on shutdown rather than never', async () => {
    const { sandbox, applied, message } = lateSandbox();
    await sandbox.adapter('email').send(message(1, 'late@simulator.candor.invalid'));
    await sandbox.drain();
    expect(applied.map((event) => [event.messageId, event.status])).toEqual([[1, 'delivered']]);
  });
});
