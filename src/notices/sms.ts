import { SegmentedMessage } from 'sms-segments-calculator';

/**
 * What one SMS costs: GSM-7 fits 160 characters in one segment (153 per segment once split), while a
 * single character outside GSM-7 (Chinese, Arabic, Hindi, most emoji, a curly quote) switches the whole
 * text to UCS-2: 70 per segment, 67 once split. Carriers bill per segment, so staff see this before
 * sending. Counting is Twilio's own calculator, which knows the GSM-7 extension table and
 * surrogate pairs.
 */
export interface SmsCost {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  characters: number;
  /** The characters that forced UCS-2, so an editor can replace them (empty for GSM-7). */
  nonGsmCharacters: string[];
}

export function smsCost(text: string): SmsCost {
  const message = new SegmentedMessage(text, 'auto');
  return {
    encoding: message.encodingName === 'UCS-2' ? 'UCS-2' : 'GSM-7',
    segments: message.segmentsCount,
    characters: message.numberOfCharacters,
    nonGsmCharacters: [...new Set(message.getNonGsmCharacters())],
  };
}
