import { z } from 'zod';
import { normalizeEmail, normalizePhone } from '../people/contact.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { PREFERRED_TIMES } from './store.js';

/** A phone number as people write it: with a country code, or national in the country we know them by. */
export function callbackForm(country: string | null) {
  return z.object({
    phone: z
      .string()
      .trim()
      .min(1, 'support:errors.phoneMissing')
      .refine((value) => normalizePhone(value, country ?? undefined) !== null, 'support:errors.phoneInvalid')
      .transform((value) => normalizePhone(value, country ?? undefined)!),
    preferredTime: z.enum(PREFERRED_TIMES, 'support:errors.timeMissing'),
    locale: z.enum(SUPPORTED_LOCALES, 'support:errors.localeMissing'),
  });
}

/** Someone signed in can be answered through their record; anyone else must say where to reply. */
export function messageForm(signedIn: boolean) {
  return z.object({
    message: z
      .string()
      .trim()
      .min(1, 'support:errors.messageMissing')
      .max(2000, 'support:errors.messageTooLong'),
    name: z
      .string()
      .trim()
      .max(200, 'support:errors.nameTooLong')
      .optional()
      .transform((value) => value || null),
    replyEmail: z
      .string()
      .trim()
      .optional()
      .refine((value) => (value ? normalizeEmail(value) !== null : signedIn), {
        message: signedIn ? 'support:errors.emailInvalid' : 'support:errors.emailMissing',
      })
      .transform((value) => (value ? normalizeEmail(value) : null)),
  });
}
