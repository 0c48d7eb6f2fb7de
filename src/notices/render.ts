import type { TFunction } from '../platform/i18n.js';
import type { Channel } from '../channels/kinds.js';
import { smsCost, type SmsCost } from './sms.js';
import { fallbackMark, type LanguageMark } from '../platform/languages.js';

/**
 * Turns a message kind, a channel and one person's facts into what that person receives, in their
 * language. Pure: the translation function is passed in, so tests render without I/O.
 */
export const MESSAGE_KINDS = ['initial_notice', 'update', 'reminder', 'code_offer', 'code_reminder'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Kinds about a code pool: made from the pool's page, never as a general campaign. */
export const CODE_MESSAGE_KINDS = ['code_offer', 'code_reminder'] as const satisfies readonly MessageKind[];
/** What a general campaign may send. */
export const GENERAL_MESSAGE_KINDS = MESSAGE_KINDS.filter(
  (kind): kind is Exclude<MessageKind, (typeof CODE_MESSAGE_KINDS)[number]> =>
    !(CODE_MESSAGE_KINDS as readonly string[]).includes(kind),
);

export function isCodeMessageKind(kind: MessageKind): boolean {
  return (CODE_MESSAGE_KINDS as readonly string[]).includes(kind);
}

/** The incident's own words in the person's language, written by staff for the status page. */
export interface IncidentWording {
  whatHappened?: string;
  whatWeDid?: string;
  whatYouShouldDo?: string;
  howToGetHelp?: string;
}

export interface NoticeFacts {
  organisation: string;
  name: string | null;
  referenceCode: string;
  lookupUrl: string;
  dataTypes: readonly string[];
  helpline: string | null;
  updateTitle?: string;
  updateBody?: string;
  /** The language the update's title and body are in, when it is not the person's (no text of theirs). */
  updateLocale?: string | null;
  /** Replaces the default "what happened / what we did" wording when staff wrote their own. */
  incidentWording?: IncidentWording | null;
  /** What a code offer or code reminder says about the code; absent for every other message. */
  codeOffer?: CodeOfferFacts | null;
  /** One-click opt-out from update emails; only update emails carry it. */
  unsubscribeUrl?: string | null;
  /**
   * Per-incident texts that replace a default, keyed like the locale file ("initial_notice.intro").
   * Same placeholders as the default; see checkTemplate.
   */
  overrides?: Readonly<Record<string, string>>;
}

/** A code pool's offer to one person, in their language. */
export interface CodeOfferFacts {
  /** The pool's name as staff wrote it ("24 months of credit monitoring"). */
  service: string;
  /** A goodwill gesture (discount, gift, upgrade), offered as amends rather than as protection. */
  goodwill: boolean;
  vendor: string;
  /** The pool's steps in this very language, or null. */
  instructions: string | null;
  /** The enroll-by day, formatted for the person's language; null when the code does not expire. */
  deadline: string | null;
  /** The code itself, only for pools that put it in the message; otherwise the person reveals it online. */
  code: string | null;
}

export interface NoticeSection {
  heading: string | null;
  paragraphs: string[];
  /** Set when the section is in another language than the notice: the HTML marks it with lang and dir. */
  mark?: LanguageMark | null;
}

/** Everything a call says, each part in the person's language. */
export interface CallScript {
  /** The notice itself, spoken. */
  message: string;
  /** "Press 1 to hear this again, 2 to be connected to the helpline." */
  menu: string;
  connecting: string;
  goodbye: string;
  /** Left on an answering machine: short, asks to call back, no personal details. */
  machine: string;
  /** The number the keypress connects to, or null when the incident has no helpline in this language. */
  helpline: string | null;
}

export interface RenderedNotice {
  channel: Channel;
  locale: string;
  dir: 'ltr' | 'rtl';
  subject: string | null;
  /** Plain text: the email's text part, the SMS, the letter body. */
  text: string;
  /** Every paragraph in order, without headings. */
  paragraphs: string[];
  /** Paragraphs grouped under headings, for the HTML email and the letter layout. */
  sections: NoticeSection[];
  /** Email footer lines (why you got this; how to stop updates). */
  footer: string[];
  referenceCode: string;
  lookupUrl: string;
  unsubscribeUrl: string | null;
  /** What a voice call says, written to be spoken. */
  speech: string | null;
  call: CallScript | null;
  sms: SmsCost | null;
  /** Labels the email and letter layouts print beside the facts. */
  labels: { referenceLabel: string; lookupButton: string; qrCaption: string; pageOf: string };
}

const RTL_LANGUAGES = new Set(['ar', 'he', 'fa', 'ur']);
/** The code-offer texts with a wording of their own for goodwill pools (`subjectGoodwill`, …). */
const GOODWILL_VARIANTS = new Set(['subject', 'intro', 'sms', 'voice']);

export function noticeDirection(locale: string): 'ltr' | 'rtl' {
  return RTL_LANGUAGES.has(locale.split('-')[0] ?? '') ? 'rtl' : 'ltr';
}

/** Reads a code aloud one character at a time, groups separated by a pause. */
export function spokenReferenceCode(code: string): string {
  return code
    .split('-')
    .map((group) => group.split('').join(' '))
    .join(', ');
}

/** Reads a phone number digit by digit, keeping its groups as pauses: "+44 800 111" → "+4 4, 8 0 0, 1 1 1". */
export function spokenPhoneNumber(phone: string): string {
  return phone
    .replace(/[^\d+\s]/g, ' ')
    .trim()
    .split(/\s+/)
    .map((group) => group.split('').join(' '))
    .join(', ');
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

/** The placeholders a text uses, each once, sorted. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ''))].sort();
}

/**
 * Checks a staff-written text against the default it replaces: it may use only placeholders the
 * default offers, and must keep the ones a person cannot do without (the link and the code).
 */
export function checkTemplate(text: string, defaultText: string): { unknown: string[]; missing: string[] } {
  const allowed = new Set(placeholdersOf(defaultText));
  const used = placeholdersOf(text);
  const essential = ['lookupUrl', 'referenceCode', 'code'].filter((name) => allowed.has(name));
  return {
    unknown: used.filter((name) => !allowed.has(name)),
    missing: essential.filter((name) => !used.includes(name)),
  };
}

function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

function joinSections(sections: NoticeSection[], footer: string[]): string {
  const blocks = sections.map((section) =>
    [...(section.heading ? [section.heading] : []), ...section.paragraphs].join('\n\n'),
  );
  return [...blocks, ...(footer.length > 0 ? [footer.join('\n')] : [])].join('\n\n');
}

export function renderNotice(
  t: TFunction,
  locale: string,
  kind: MessageKind,
  channel: Channel,
  facts: NoticeFacts,
): RenderedNotice {
  const offer = isCodeMessageKind(kind) ? (facts.codeOffer ?? null) : null;
  const dataTypes = facts.dataTypes
    .map((type) => t(`common:dataTypes.${type}`, { lng: locale, defaultValue: type }))
    .join(', ');
  const values: Record<string, string> = {
    organisation: facts.organisation,
    name: facts.name ?? '',
    referenceCode: facts.referenceCode,
    lookupUrl: facts.lookupUrl,
    dataTypes,
    helpline: facts.helpline ?? '',
    spokenHelpline: facts.helpline ? spokenPhoneNumber(facts.helpline) : '',
    spokenReferenceCode: spokenReferenceCode(facts.referenceCode),
    updateTitle: facts.updateTitle ?? '',
    updateBody: facts.updateBody ?? '',
    unsubscribeUrl: facts.unsubscribeUrl ?? '',
    service: offer?.service ?? '',
    vendor: offer?.vendor ?? '',
    deadline: offer?.deadline ?? '',
    code: offer?.code ?? '',
    spokenCode: offer?.code ? spokenReferenceCode(offer.code) : '',
  };
  const text = (key: string) => {
    const override = facts.overrides?.[key];
    if (override !== undefined && override.trim() !== '') return interpolate(override, values);
    return t(`notices:${key}`, { ...values, lng: locale });
  };
  const line = (key: string) =>
    text(
      `${kind}.${kind === 'code_offer' && offer?.goodwill && GOODWILL_VARIANTS.has(key) ? `${key}Goodwill` : key}`,
    );
  const layout = (key: string) => text(`layout.${key}`);
  const dir = noticeDirection(locale);
  const wording = facts.incidentWording ?? {};
  const hasHelpline = Boolean(facts.helpline);
  const labels = {
    referenceLabel: layout('referenceLabel'),
    lookupButton: layout('lookupButton'),
    qrCaption: layout('qrCaption'),
    // Filled in per page by the letter printer.
    pageOf: t('notices:layout.pageOf', { lng: locale, page: '{{page}}', pages: '{{pages}}' }),
  };
  /** "Claim it before…" or, once they hold the code, "Activate it before…"; nothing when it does not expire. */
  const deadlineLine = (facts: CodeOfferFacts) =>
    facts.deadline ? text(facts.code ? 'code_offer.activateBy' : 'code_offer.deadline') : null;
  /** The offer's steps: the code itself or how to reveal it, the pool's own steps, the deadline. */
  const codeOfferSteps = (facts: CodeOfferFacts) => [
    text('code_offer.offerLine'),
    ...(facts.code
      ? [text('code_offer.yourCode'), text('code_offer.howToUse')]
      : [text('code_offer.howToClaim')]),
    facts.instructions,
    deadlineLine(facts),
  ];
  const codeOfferSpeech = (facts: CodeOfferFacts | null) => [
    line('voice'),
    text(facts?.code ? 'code_offer.voiceYourCode' : 'code_offer.voiceHowToClaim'),
    facts && deadlineLine(facts),
  ];
  const base = {
    channel,
    locale,
    dir,
    referenceCode: facts.referenceCode,
    lookupUrl: facts.lookupUrl,
    labels,
  };

  if (channel === 'sms') {
    const sms = [line(offer?.code ? 'smsCode' : 'sms'), offer && deadlineLine(offer)]
      .filter(Boolean)
      .join(' ');
    return {
      ...base,
      subject: null,
      text: sms,
      paragraphs: [sms],
      sections: [{ heading: null, paragraphs: [sms] }],
      footer: [],
      unsubscribeUrl: null,
      speech: null,
      call: null,
      sms: smsCost(sms),
    };
  }

  if (channel === 'voice') {
    const speech = [
      ...(isCodeMessageKind(kind) ? codeOfferSpeech(offer) : [line('voice')]),
      ...(hasHelpline ? [line('voiceHelp')] : []),
      line('voiceReference'),
    ]
      .filter(Boolean)
      .join(' ');
    const call: CallScript = {
      message: speech,
      menu: text(hasHelpline ? 'call.menu' : 'call.menuNoHelpline'),
      connecting: text('call.connecting'),
      goodbye: text('call.goodbye'),
      machine: text(hasHelpline ? 'call.machine' : 'call.machineNoHelpline'),
      helpline: facts.helpline,
    };
    const script = [call.message, call.menu];
    return {
      ...base,
      subject: null,
      text: script.join('\n\n'),
      paragraphs: script,
      sections: [{ heading: null, paragraphs: script }],
      footer: [],
      unsubscribeUrl: null,
      speech,
      call,
      sms: null,
    };
  }

  const greeting = facts.name ? line('greeting') : line('greetingAnonymous');
  const help = hasHelpline ? line('help') : line('helpWeb');
  const sections: NoticeSection[] = [{ heading: null, paragraphs: [greeting, line('intro')] }];
  const section = (headingKey: string | null, paragraphs: (string | null | undefined | false)[]) => {
    const kept = paragraphs.filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    if (kept.length > 0) sections.push({ heading: headingKey ? layout(headingKey) : null, paragraphs: kept });
  };
  const whatData = facts.dataTypes.length > 0 && line('whatData');

  switch (kind) {
    case 'initial_notice':
      section('whatHappenedHeading', [wording.whatHappened ?? line('whatHappened')]);
      section('whatDataHeading', [whatData]);
      section('whatWeDidHeading', [wording.whatWeDid ?? line('whatWeDid')]);
      section('whatToDoHeading', [wording.whatYouShouldDo, line('whatToDo'), line('reference')]);
      section('helpHeading', [wording.howToGetHelp, help]);
      section('genuineHeading', [line('genuine')]);
      section(null, [line('closing'), line('signoff')]);
      break;
    case 'update':
      if (facts.updateTitle || facts.updateBody) {
        const mark = fallbackMark(locale, facts.updateLocale);
        // Said in the person's language, before the part they may not read.
        if (mark)
          sections.push({
            heading: null,
            paragraphs: [t('languages:onlyIn', { lng: locale, language: mark.name })],
          });
        sections.push({
          heading: facts.updateTitle ?? null,
          paragraphs: facts.updateBody ? [facts.updateBody] : [],
          mark,
        });
      }
      section(null, [line('more'), line('reference')]);
      section('genuineHeading', [line('genuine')]);
      section(null, [line('signoff')]);
      break;
    case 'reminder':
      section('whatDataHeading', [whatData]);
      section('whatToDoHeading', [wording.whatYouShouldDo, line('whatToDo'), line('reference')]);
      section('helpHeading', [help]);
      section('genuineHeading', [line('genuine')]);
      section(null, [line('signoff')]);
      break;
    case 'code_offer':
    case 'code_reminder':
      section('whatToDoHeading', offer ? codeOfferSteps(offer) : [text('code_offer.howToClaim')]);
      section('helpHeading', [help]);
      section('genuineHeading', [text('code_offer.genuine')]);
      section(null, [line('signoff')]);
      break;
  }

  const unsubscribeUrl = kind === 'update' && channel === 'email' ? (facts.unsubscribeUrl ?? null) : null;
  const footer =
    channel === 'email' ? [layout('emailFooter'), ...(unsubscribeUrl ? [layout('unsubscribe')] : [])] : [];
  return {
    ...base,
    subject: line('subject'),
    text: joinSections(sections, footer),
    paragraphs: sections.flatMap((s) => s.paragraphs),
    sections,
    footer,
    unsubscribeUrl,
    speech: null,
    call: null,
    sms: null,
  };
}

/**
 * A short message that is not an incident notice (a one-time code, a confirmation link): the same
 * shape, so every channel adapter and the outbox take it, with no reference code box or call menu.
 */
export function simpleNotice(message: {
  channel: Channel;
  locale: string;
  subject: string | null;
  paragraphs: string[];
  link: string;
}): RenderedNotice {
  const text = message.paragraphs.join('\n\n');
  return {
    channel: message.channel,
    locale: message.locale,
    dir: noticeDirection(message.locale),
    subject: message.subject,
    text,
    paragraphs: message.paragraphs,
    sections: [{ heading: null, paragraphs: message.paragraphs }],
    footer: [],
    referenceCode: '',
    lookupUrl: message.link,
    unsubscribeUrl: null,
    speech: null,
    call: null,
    sms: message.channel === 'sms' ? smsCost(text) : null,
    labels: { referenceLabel: '', lookupButton: '', qrCaption: '', pageOf: '' },
  };
}
