import type { TFunction } from '../platform/i18n.js';
import { simpleNotice, type RenderedNotice } from '../notices/render.js';

/** The texts of the portal's own messages, in the reader's language. Pure: `t` is passed in. */

export function renderAccessCode(
  t: TFunction,
  locale: string,
  channel: 'email' | 'sms',
  facts: { organisation: string; code: string; link: string; minutes: number },
): RenderedNotice {
  const values = { lng: locale, ...facts };
  if (channel === 'sms') {
    return simpleNotice({
      channel,
      locale,
      subject: null,
      paragraphs: [t('lookup:message.sms', values)],
      link: facts.link,
    });
  }
  return simpleNotice({
    channel,
    locale,
    subject: t('lookup:message.subject', values),
    paragraphs: [
      t('lookup:message.intro', values),
      t('lookup:message.code', values),
      t('lookup:message.link', values),
      t('lookup:message.expiry', values),
      t('lookup:message.notYou', values),
    ],
    link: facts.link,
  });
}

export function renderSubscriptionConfirmation(
  t: TFunction,
  locale: string,
  facts: { organisation: string; link: string },
): RenderedNotice {
  const values = { lng: locale, ...facts };
  return simpleNotice({
    channel: 'email',
    locale,
    subject: t('subscribe:message.subject', values),
    paragraphs: [
      t('subscribe:message.intro', values),
      t('subscribe:message.link', values),
      t('subscribe:message.notYou', values),
    ],
    link: facts.link,
  });
}
