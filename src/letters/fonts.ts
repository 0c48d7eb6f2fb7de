import fs from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Fonts that cover each language's script, shipped as npm packages (Google's Noto, OFL) so letters
 * print the same on every machine with no system fonts installed. Each also covers Latin, so
 * addresses, links and reference codes need no second font.
 */
export interface LetterFonts {
  regular: string;
  bold: string;
}

const require = createRequire(import.meta.url);

const FAMILIES: Record<string, { pkg: string; file: string }> = {
  latin: { pkg: 'noto-sans', file: 'NotoSans' },
  'zh-Hans': { pkg: 'noto-sans-sc', file: 'NotoSansSC' },
  ar: { pkg: 'noto-sans-arabic', file: 'NotoSansArabic' },
  hi: { pkg: 'noto-sans-devanagari', file: 'NotoSansDevanagari' },
};

function fontPath(family: { pkg: string; file: string }, weight: '400Regular' | '700Bold'): string {
  return require.resolve(`@expo-google-fonts/${family.pkg}/${weight}/${family.file}_${weight}.ttf`);
}

export class MissingFontError extends Error {
  override name = 'MissingFontError';
}

/** The font files for a locale. Throws a MissingFontError naming the package to install if one is gone. */
export function fontsFor(locale: string): LetterFonts {
  const family = FAMILIES[locale] ?? FAMILIES[locale.split('-')[0] ?? ''] ?? FAMILIES.latin!;
  try {
    const fonts = { regular: fontPath(family, '400Regular'), bold: fontPath(family, '700Bold') };
    if (!fs.existsSync(fonts.regular) || !fs.existsSync(fonts.bold)) throw new Error('font file missing');
    return fonts;
  } catch {
    throw new MissingFontError(
      `Letters in "${locale}" need the font package @expo-google-fonts/${family.pkg}: run npm ci`,
    );
  }
}
