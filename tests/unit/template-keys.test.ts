import { describe, expect, it } from 'vitest';
import { templateKeys } from '../../src/notices/template-keys.js';

const KEYS = [
  'subject',
  'greeting',
  'intro',
  'reference',
  'sms',
  'smsCode',
  'voice',
  'voiceHelp',
  'voiceReference',
];

describe('which texts make up a message', () => {
  it('gives an SMS its texts', () => {
    expect(templateKeys('reminder', 'sms', KEYS)).toEqual(['reminder.sms', 'reminder.smsCode']);
  });

  it('gives a call its spoken parts', () => {
    expect(templateKeys('initial_notice', 'voice', KEYS)).toEqual([
      'initial_notice.voice',
      'initial_notice.voiceHelp',
      'initial_notice.voiceReference',
    ]);
  });

  it('gives an email and a letter everything else', () => {
    const expected = ['update.subject', 'update.greeting', 'update.intro', 'update.reference'];
    expect(templateKeys('update', 'email', KEYS)).toEqual(expected);
    expect(templateKeys('update', 'letter', KEYS)).toEqual(expected);
  });
});
