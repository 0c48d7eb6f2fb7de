import type { TFunction } from '../platform/i18n.js';
import type { Channel } from '../campaigns/channel-policy.js';

/**
 * Turns a message kind, a channel and one person's facts into what that person receives, in their
 * language. Pure: the translation function is passed in, so tests render without I/O.
 */
export const MESSAGE_KINDS = ['initial_notice', 'update', 'reminder', 'code_offer'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface NoticeFacts {
  organisation: string;
  name: string | null;
  referenceCode: string;
  lookupUrl: string;
  dataTypes: readonly string[];
  helpline: string | null;
  updateTitle?: string;
  updateBody?: string;
}

export interface RenderedNotice {
  channel: Channel;
  locale: string;
  subject: string | null;
  /** Plain text: the email's text part, the SMS, the letter body. */
  text: string;
  /** Paragraphs, for the HTML email and the letter layout. */
  paragraphs: string[];
  /** What a voice call says, written to be spoken. */
  speech: string | null;
}

/** Reads a code aloud one character at a time, groups separated by a pause. */
export function spokenReferenceCode(code: string): string {
  return code
    .split('-')
    .map((group) => group.split('').join(' '))
    .join(', ');
}

// Kinds without their own texts yet fall back to the initial notice wording.
function textKind(kind: MessageKind): 'initial_notice' | 'update' {
  return kind === 'update' ? 'update' : 'initial_notice';
}

export function renderNotice(
  t: TFunction,
  locale: string,
  kind: MessageKind,
  channel: Channel,
  facts: NoticeFacts,
): RenderedNotice {
  const k = textKind(kind);
  const dataTypes = facts.dataTypes
    .map((type) => t(`common:dataTypes.${type}`, { lng: locale, defaultValue: type }))
    .join(', ');
  const values = {
    lng: locale,
    ...facts,
    dataTypes,
    helpline: facts.helpline ?? '',
    spokenReferenceCode: spokenReferenceCode(facts.referenceCode),
    name: facts.name ?? '',
  };
  const line = (key: string) => t(`notices:${k}.${key}`, values);

  if (channel === 'sms') {
    return { channel, locale, subject: null, text: line('sms'), paragraphs: [line('sms')], speech: null };
  }
  if (channel === 'voice') {
    const speech = line('voice');
    return { channel, locale, subject: null, text: speech, paragraphs: [speech], speech };
  }

  const paragraphs = [facts.name ? line('greeting') : line('greetingAnonymous'), line('intro')];
  if (k === 'initial_notice') {
    if (facts.dataTypes.length > 0) paragraphs.push(line('whatData'));
    paragraphs.push(line('whatToDo'), line('reference'), line('genuine'));
  } else {
    paragraphs.push(line('body'), line('more'));
  }
  if (facts.helpline && k === 'initial_notice') paragraphs.push(line('help'));
  paragraphs.push(line('signoff'));
  return {
    channel,
    locale,
    subject: line('subject'),
    text: paragraphs.join('\n\n'),
    paragraphs,
    speech: null,
  };
}
