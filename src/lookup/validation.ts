import { z } from 'zod';
import { normalizeEmail, normalizePhone } from '../people/contact.js';
import { normalizeReferenceCode } from '../people/reference-code.js';
import type { ContactChannel } from './store.js';

/** Form schemas for the lookup. Messages are locale keys (src/web/forms.ts). */

export interface Contact {
  channel: ContactChannel;
  /** Normalized: lower-case email, or E.164 phone. */
  value: string;
}

/** An email address, or a phone number written with its country code; null if it is neither. */
export function parseContact(input: string): Contact | null {
  const text = input.trim();
  if (text.includes('@')) {
    const email = normalizeEmail(text);
    return email ? { channel: 'email', value: email } : null;
  }
  const phone = normalizePhone(text.startsWith('00') ? `+${text.slice(2)}` : text);
  return phone ? { channel: 'sms', value: phone } : null;
}

/** Spaces and dashes ignored, as people copy codes from messages (STYLE 16). */
export function normalizeAccessCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(code) ? code : null;
}

export const referenceForm = z.object({
  reference: z
    .string()
    .trim()
    .min(1, 'lookup:errors.referenceMissing')
    .refine((value) => normalizeReferenceCode(value) !== null, 'lookup:errors.referenceInvalid')
    .transform((value) => normalizeReferenceCode(value)!),
  verifier: z
    .string()
    .trim()
    .min(1, 'lookup:errors.verifierMissing')
    .max(16, 'lookup:errors.verifierInvalid'),
});

export const contactForm = z.object({
  contact: z
    .string()
    .trim()
    .min(1, 'lookup:errors.contactMissing')
    .max(254, 'lookup:errors.contactInvalid')
    .refine((value) => parseContact(value) !== null, 'lookup:errors.contactInvalid')
    .transform((value) => parseContact(value)!),
});

export const codeForm = z.object({
  code: z
    .string()
    .min(1, 'lookup:errors.codeMissing')
    .refine((value) => normalizeAccessCode(value) !== null, 'lookup:errors.codeInvalid')
    .transform((value) => normalizeAccessCode(value)!),
  request: z.uuid().optional(),
});
