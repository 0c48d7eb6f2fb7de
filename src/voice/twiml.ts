import twilio from 'twilio';
import type { CallScript } from '../notices/render.js';

type VoiceResponse = InstanceType<typeof twilio.twiml.VoiceResponse>;
type Gather = ReturnType<VoiceResponse['gather']>;
/** The SDK's own lists of languages and voices, so a voice that does not exist fails to compile. */
type SayAttributes = Required<
  Pick<Exclude<Parameters<VoiceResponse['say']>[0], string>, 'language' | 'voice'>
>;

/**
 * The Twilio voice for each language we ship: a neural voice that speaks it natively, with the
 * language Twilio expects for it. Arabic uses Zeina, the Modern Standard Arabic voice, because the
 * texts are written in MSA; Hindi uses Kajal, which speaks Hindi natively.
 */
export const CALL_VOICES: Record<string, SayAttributes> = {
  en: { language: 'en-GB', voice: 'Polly.Amy-Neural' },
  fr: { language: 'fr-FR', voice: 'Polly.Lea-Neural' },
  es: { language: 'es-ES', voice: 'Polly.Lucia-Neural' },
  de: { language: 'de-DE', voice: 'Polly.Vicki-Neural' },
  pt: { language: 'pt-PT', voice: 'Polly.Ines-Neural' },
  'zh-Hans': { language: 'cmn-CN', voice: 'Polly.Zhiyu-Neural' },
  ar: { language: 'arb', voice: 'Polly.Zeina' },
  hi: { language: 'hi-IN', voice: 'Polly.Kajal-Neural' },
};

export function voiceFor(locale: string): SayAttributes {
  return CALL_VOICES[locale] ?? CALL_VOICES[locale.split('-')[0] ?? ''] ?? (CALL_VOICES.en as SayAttributes);
}

/** Slower than default: people write down the reference code and the number as they hear them. */
const CLEAR_PACE = '90%';

/** Twilio's AnsweredBy with MachineDetection=DetectMessageEnd: machine_end_beep and friends, or fax. */
export function isMachine(answeredBy: string | undefined): boolean {
  return Boolean(answeredBy && (answeredBy.startsWith('machine') || answeredBy === 'fax'));
}

function say(node: VoiceResponse | Gather, locale: string, text: string): void {
  node.say(voiceFor(locale), '').prosody({ rate: CLEAR_PACE }, text);
}

export interface CallUrls {
  /** Where Twilio posts the key the person pressed. */
  menu: string;
}

/** What Twilio plays when the call is answered: the notice and the menu, or a short voicemail. */
export function answerTwiml(script: CallScript, locale: string, urls: CallUrls, answeredBy?: string): string {
  const response = new twilio.twiml.VoiceResponse();
  if (isMachine(answeredBy)) {
    say(response, locale, script.machine);
    response.hangup();
    return response.toString();
  }
  playWithMenu(response, script, locale, urls, true);
  return response.toString();
}

function playWithMenu(
  response: VoiceResponse,
  script: CallScript,
  locale: string,
  urls: CallUrls,
  withMessage: boolean,
): void {
  const gather = response.gather({
    numDigits: 1,
    action: urls.menu,
    method: 'POST',
    timeout: 8,
    actionOnEmptyResult: false,
  });
  if (withMessage) {
    say(gather, locale, script.message);
    gather.pause({ length: 1 });
  }
  say(gather, locale, script.menu);
  // No key pressed: the menu once more, then goodbye.
  const again = response.gather({ numDigits: 1, action: urls.menu, method: 'POST', timeout: 8 });
  say(again, locale, script.menu);
  say(response, locale, script.goodbye);
  response.hangup();
}

/** The answer to a keypress: 1 hears it all again, 2 is put through to the helpline. */
export function menuTwiml(
  script: CallScript,
  locale: string,
  urls: CallUrls,
  digits: string | undefined,
): string {
  const response = new twilio.twiml.VoiceResponse();
  if (digits === '2' && script.helpline) {
    say(response, locale, script.connecting);
    response.dial({ answerOnBridge: true }, script.helpline.replace(/[^\d+]/g, ''));
    return response.toString();
  }
  playWithMenu(response, script, locale, urls, digits === '1');
  return response.toString();
}

/** Said when the message behind a call cannot be found (purged, or a stale retry). */
export function unknownMessageTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.hangup();
  return response.toString();
}
