import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCALES_DIR } from '../../src/platform/i18n.js';
import { NOTICE_LOCALES } from '../../src/notices/locales.js';
import { MESSAGE_KINDS, placeholdersOf } from '../../src/notices/render.js';

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') out.set(`${prefix}${key}`, value);
    else for (const [k, v] of flatten(value, `${prefix}${key}.`)) out.set(k, v);
  }
  return out;
}

function load(locale: string): Map<string, string> {
  return flatten(JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, locale, 'notices.json'), 'utf8')) as Tree);
}

/** Letters of the script each locale is written in, so a copied English text cannot pass. */
const SCRIPT: Record<string, RegExp> = {
  'zh-Hans': /\p{Script=Han}/u,
  ar: /\p{Script=Arabic}/u,
  hi: /\p{Script=Devanagari}/u,
};

const english = load('en');

describe('notice texts in every language the product ships', () => {
  it('has a text for every message kind on every channel in English', () => {
    for (const kind of MESSAGE_KINDS) {
      for (const key of ['subject', 'greeting', 'greetingAnonymous', 'intro', 'signoff', 'sms', 'voice'])
        expect(english.has(`${kind}.${key}`), `${kind}.${key}`).toBe(true);
    }
  });

  for (const locale of NOTICE_LOCALES) {
    it(`${locale} has exactly the keys English has, with the same placeholders, none empty`, () => {
      const texts = load(locale);
      expect([...texts.keys()].sort()).toEqual([...english.keys()].sort());
      for (const [key, englishText] of english) {
        const text = texts.get(key) ?? '';
        expect(text.trim(), key).not.toBe('');
        expect(placeholdersOf(text), key).toEqual(placeholdersOf(englishText));
      }
    });

    if (locale === 'en') continue;
    it(`${locale} is a translation, not a copy of English`, () => {
      const texts = load(locale);
      const script = SCRIPT[locale];
      for (const [key, englishText] of english) {
        const text = texts.get(key) ?? '';
        const words = text.replace(/\{\{\w+\}\}/g, '').replace(/[\s\p{P}\d]/gu, '');
        if (words.length < 4) continue; // "{{organisation}}" and the like are the same everywhere
        if (script) expect(text, key).toMatch(script);
        // Short labels may coincide ("Page {{page}}…"), sentences may not.
        if (englishText.length > 30) expect(text, key).not.toBe(englishText);
      }
    });
  }
});
