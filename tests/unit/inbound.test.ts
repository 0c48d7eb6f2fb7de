import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifySms, SMS_KEYWORDS } from '../../src/inbound/keywords.js';
import { messageIdFromReplyAddress, replyAddress } from '../../src/channels/reply-address.js';
import { channelOrder, DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';
import { planAfterFailure } from '../../src/campaigns/fallback.js';
import { bareAddress, answerChannel } from '../../src/inbound/service.js';
import { toInboundEmail } from '../../src/inbound/routes.js';
import { SUPPORTED_LOCALES } from '../../src/platform/i18n.js';

describe('SMS keywords', () => {
  it('reads the carrier-standard words in any case, with spaces and a full stop around them', () => {
    for (const word of ['STOP', 'stop', ' Stop. ', 'STOPALL', 'Unsubscribe', 'CANCEL', 'end', 'QUIT!'])
      expect(classifySms(word)?.keyword, word).toBe('stop');
    expect(classifySms('START')?.keyword).toBe('start');
    expect(classifySms('unstop')?.keyword).toBe('start');
    expect(classifySms('HELP')?.keyword).toBe('help');
    expect(classifySms('info')?.keyword).toBe('help');
  });

  it('reads the words of every language, with their language', () => {
    expect(classifySms('ARRÊT')).toMatchObject({ keyword: 'stop', locale: 'fr' });
    expect(classifySms('arret')).toMatchObject({ keyword: 'stop', locale: 'fr' });
    expect(classifySms('Alto')).toMatchObject({ keyword: 'stop', locale: 'es' });
    expect(classifySms('BAJA')).toMatchObject({ keyword: 'stop', locale: 'es' });
    expect(classifySms('STOPP')).toMatchObject({ keyword: 'stop', locale: 'de' });
    expect(classifySms('abmelden')).toMatchObject({ keyword: 'stop', locale: 'de' });
    expect(classifySms('SAIR')).toMatchObject({ keyword: 'stop', locale: 'pt' });
    expect(classifySms('退订')).toMatchObject({ keyword: 'stop', locale: 'zh-Hans' });
    expect(classifySms('取消。')).toMatchObject({ keyword: 'stop', locale: 'zh-Hans' });
    expect(classifySms('إيقاف')).toMatchObject({ keyword: 'stop', locale: 'ar' });
    expect(classifySms('الغاء')).toMatchObject({ keyword: 'stop', locale: 'ar' });
    expect(classifySms('रोकें')).toMatchObject({ keyword: 'stop', locale: 'hi' });
    expect(classifySms('बंद')).toMatchObject({ keyword: 'stop', locale: 'hi' });
    expect(classifySms('AIDE')).toMatchObject({ keyword: 'help', locale: 'fr' });
    expect(classifySms('ayuda')).toMatchObject({ keyword: 'help', locale: 'es' });
    expect(classifySms('Hilfe')).toMatchObject({ keyword: 'help', locale: 'de' });
    expect(classifySms('帮助')).toMatchObject({ keyword: 'help', locale: 'zh-Hans' });
    expect(classifySms('مساعدة')).toMatchObject({ keyword: 'help', locale: 'ar' });
    expect(classifySms('मदद')).toMatchObject({ keyword: 'help', locale: 'hi' });
  });

  it('has stop, start and help words for each of the eight languages, each word meaning one thing', () => {
    for (const keyword of ['stop', 'start', 'help'] as const)
      for (const locale of SUPPORTED_LOCALES)
        expect(SMS_KEYWORDS[keyword][locale]?.length, `${keyword} ${locale}`).toBeGreaterThan(0);
    for (const keyword of ['stop', 'start', 'help'] as const)
      for (const words of Object.values(SMS_KEYWORDS[keyword]))
        for (const word of words) expect(classifySms(word)?.keyword, word).toBe(keyword);
  });

  it('reads a sentence as a sentence, even one with a keyword in it', () => {
    for (const text of [
      'Please stop texting me',
      'stop it',
      'Why did I get this?',
      'help me',
      '',
      '   ',
      'yes',
    ])
      expect(classifySms(text), text).toBeNull();
  });
});

describe('reply addresses', () => {
  const key = crypto.randomBytes(32);

  it('name the message they answer, and nothing else', () => {
    const address = replyAddress(key, 'reply.acme.example', 1234);
    expect(address).toMatch(/^reply\+1234\.[0-9a-f]+@reply\.acme\.example$/);
    expect(messageIdFromReplyAddress(key, 'reply.acme.example', address)).toBe(1234);
    expect(messageIdFromReplyAddress(key, 'REPLY.acme.example', address.toUpperCase())).toBe(1234);
  });

  it('refuse a forged or altered address', () => {
    const address = replyAddress(key, 'reply.acme.example', 1234);
    expect(messageIdFromReplyAddress(key, 'reply.acme.example', address.replace('1234', '1235'))).toBeNull();
    expect(messageIdFromReplyAddress(crypto.randomBytes(32), 'reply.acme.example', address)).toBeNull();
    expect(messageIdFromReplyAddress(key, 'other.example', address)).toBeNull();
    expect(messageIdFromReplyAddress(key, 'reply.acme.example', 'reply+1234@reply.acme.example')).toBeNull();
  });
});

describe('channels for a number that texted STOP', () => {
  const reachable = { email: true, phone: true, postalAddress: true };

  it('leave SMS out and keep calls', () => {
    const person = { preferredChannel: 'sms' as const, accessibilityNeeds: [] };
    expect(channelOrder({ ...person, reachable }, DEFAULT_CHANNEL_POLICY)[0]).toBe('sms');
    expect(
      channelOrder({ ...person, reachable: { ...reachable, smsOptedOut: true } }, DEFAULT_CHANNEL_POLICY),
    ).toEqual(['email', 'voice', 'letter']);
  });

  it('move an SMS stopped on its way on to the channel after it', () => {
    expect(
      planAfterFailure({
        order: ['voice', 'letter'],
        orderBefore: ['sms', 'voice', 'letter'],
        failedChannel: 'sms',
        failedStatus: 'failed',
        triesOnChannel: 1,
        noAnswerTries: 2,
      }),
    ).toEqual({ kind: 'next_channel', channel: 'voice' });
    expect(
      planAfterFailure({
        order: ['email', 'letter'],
        orderBefore: ['email', 'sms', 'letter'],
        failedChannel: 'sms',
        failedStatus: 'failed',
        triesOnChannel: 1,
        noAnswerTries: 2,
      }),
    ).toEqual({ kind: 'next_channel', channel: 'letter' });
  });
});

describe('inbound email', () => {
  it('takes the bare address from a From header', () => {
    expect(bareAddress('"Ann Example" <Ann@Example.com>')).toBe('ann@example.com');
    expect(bareAddress('ann@example.com')).toBe('ann@example.com');
    expect(bareAddress('not an address')).toBeNull();
  });

  it('reads an Inbound Parse post: envelope and headers, text or else the HTML as text', () => {
    const email = toInboundEmail(
      {
        from: 'Ann <ann@example.com>',
        to: 'Acme <reply+1.abc@reply.acme.example>, other@example.com',
        envelope: '{"to":["reply+1.abc@reply.acme.example"],"from":"ann@example.com"}',
        subject: ' Re: Your data ',
        html: '<p>Is my <b>card</b> safe?</p><script>alert(1)</script>',
        headers: 'Received: by mx\nMessage-ID: <abc@mail.example.com>\nSubject: Re: Your data',
        attachments: '2',
      },
      2,
    );
    expect(email).toEqual({
      from: 'Ann <ann@example.com>',
      to: ['reply+1.abc@reply.acme.example', 'Acme <reply+1.abc@reply.acme.example>', ' other@example.com'],
      subject: 'Re: Your data',
      text: 'Is my card safe?',
      messageIdHeader: '<abc@mail.example.com>',
      attachmentsDropped: 2,
    });
    expect(() => toInboundEmail({ text: 'hello' }, 0)).toThrow(/from/);
  });

  it('answers a text by text and an email by email, a callback not at all', () => {
    expect(answerChannel({ kind: 'sms_reply', phone: '+447700900001', replyEmail: null })).toBe('sms');
    expect(answerChannel({ kind: 'email_reply', phone: null, replyEmail: 'a@example.com' })).toBe('email');
    expect(answerChannel({ kind: 'message', phone: null, replyEmail: 'a@example.com' })).toBe('email');
    expect(answerChannel({ kind: 'callback', phone: '+447700900001', replyEmail: null })).toBeNull();
  });
});
