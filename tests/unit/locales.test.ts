import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCALES_DIR, NAMESPACES, SUPPORTED_LOCALES } from '../../src/platform/i18n.js';

type Tree = { [key: string]: string | Tree };

function keysOf(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keysOf(value, `${prefix}${key}.`),
  );
}

function load(locale: string, namespace: string): Tree {
  return JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, locale, `${namespace}.json`), 'utf8')) as Tree;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]!).sort();
}

describe('locales', () => {
  it('ships all eight languages, English, French and Spanish among them', () => {
    expect([...SUPPORTED_LOCALES].sort()).toEqual(['ar', 'de', 'en', 'es', 'fr', 'hi', 'pt', 'zh-Hans']);
  });

  for (const namespace of NAMESPACES) {
    const english = load('en', namespace);
    const englishKeys = keysOf(english).sort();
    for (const locale of SUPPORTED_LOCALES) {
      it(`${locale} has every ${namespace} key that English has, and no others`, () => {
        expect(keysOf(load(locale, namespace)).sort()).toEqual(englishKeys);
      });

      it(`${locale} ${namespace} uses the same placeholders as English and leaves no text empty`, () => {
        const tree = load(locale, namespace);
        for (const key of englishKeys) {
          const value = key
            .split('.')
            .reduce<Tree | string | undefined>(
              (node, part) => (typeof node === 'object' ? node[part] : undefined),
              tree,
            );
          const englishValue = key
            .split('.')
            .reduce<Tree | string | undefined>(
              (node, part) => (typeof node === 'object' ? node[part] : undefined),
              english,
            );
          expect(typeof value, key).toBe('string');
          expect((value as string).trim(), key).not.toBe('');
          expect(placeholders(value as string), key).toEqual(placeholders(englishValue as string));
        }
      });
    }
  }
});
