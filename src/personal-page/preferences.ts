import { z } from 'zod';
import { ACCESSIBILITY_NEEDS } from '../campaigns/channel-policy.js';
import { CHANNELS, type Channel } from '../channels/kinds.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import type { Profile } from './store.js';

/** The channels this person can be reached on: no choosing SMS without a phone number on file. */
export function availableChannels(reachable: Profile['reachable']): Channel[] {
  return CHANNELS.filter((channel) =>
    channel === 'email' ? reachable.email : channel === 'letter' ? reachable.postalAddress : reachable.phone,
  );
}

/** Checkboxes arrive as `need_<name>=on`; each need is its own field so the form stays plain text. */
export function preferencesForm(reachable: Profile['reachable']) {
  const channels = availableChannels(reachable) as string[];
  return z
    .object({
      locale: z.enum(SUPPORTED_LOCALES, 'personal:errors.localeInvalid'),
      channel: z
        .string()
        .default('')
        .refine((value) => value === '' || channels.includes(value), 'personal:errors.channelInvalid'),
    })
    .catchall(z.string())
    .transform((form) => ({
      locale: form.locale,
      preferredChannel: form.channel === '' ? null : (form.channel as Channel),
      accessibilityNeeds: ACCESSIBILITY_NEEDS.filter((need) => form[`need_${need}`] === 'on'),
    }));
}
