import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import subsetFont from 'subset-font';

/**
 * Web fonts for the scripts a reader's device may lack: Devanagari (Hindi) and Arabic. Without them a
 * phone or PC with no such system font shows Hindi as empty boxes. Each is cut from Google's Noto
 * fonts in the npm packages the letters already use (src/letters/fonts.ts) down to its own script,
 * and sent as woff2: about 40 kB a face instead of 200 kB. The CSS (public/candor.css) asks for them
 * only for characters in their unicode-range, and tries an installed copy first, so a reader whose
 * device has the font downloads nothing.
 *
 * Cut when first asked for (or when the web process starts: prepareFonts), kept in memory, and kept
 * in node_modules/.cache so the next process reads it instead of cutting again: nothing to build or
 * commit, so a fresh clone after `npm ci` serves them, and no install hook is needed. Chinese is left to system
 * fonts: every system that reads Chinese ships a CJK font, and a subset of Noto Sans SC covering the
 * text staff might write would be megabytes.
 */

/** Bump when the cut changes: the URLs are cached for a year, so a new cut needs a new address. */
export const FONTS_VERSION = 'v1';
export const FONTS_PATH = `/assets/fonts/${FONTS_VERSION}`;

const require = createRequire(import.meta.url);
const CACHE_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/.cache/candor-fonts',
);

function range(from: number, to: number): string {
  let text = '';
  for (let code = from; code <= to; code++) text += String.fromCodePoint(code);
  return text;
}

/** Joiners and the dotted circle shaping engines insert before a stray combining mark. */
const SHAPING = '\u200c\u200d\u25cc';

const FACES = {
  'noto-sans-devanagari': {
    pkg: 'noto-sans-devanagari',
    file: 'NotoSansDevanagari',
    text: range(0x0900, 0x097f) + range(0xa8e0, 0xa8ff) + range(0x1cd0, 0x1cff) + '\u20b9' + SHAPING,
  },
  'noto-sans-arabic': {
    pkg: 'noto-sans-arabic',
    file: 'NotoSansArabic',
    text:
      range(0x0600, 0x06ff) +
      range(0x0750, 0x077f) +
      range(0x08a0, 0x08ff) +
      range(0xfb50, 0xfdff) +
      range(0xfe70, 0xfeff) +
      SHAPING,
  },
} as const;

const WEIGHTS = { '400': '400Regular', '700': '700Bold' } as const;

type Face = keyof typeof FACES;
type Weight = keyof typeof WEIGHTS;

/** Every file served, e.g. `noto-sans-arabic-700.woff2`. */
export const FONT_FILES: readonly string[] = Object.keys(FACES).flatMap((face) =>
  Object.keys(WEIGHTS).map((weight) => `${face}-${weight}.woff2`),
);

function parse(file: string): { face: Face; weight: Weight } | null {
  const match = /^([a-z-]+)-(\d{3})\.woff2$/.exec(file);
  if (!match || !(match[1]! in FACES) || !(match[2]! in WEIGHTS)) return null;
  return { face: match[1] as Face, weight: match[2] as Weight };
}

const built = new Map<string, Promise<Buffer>>();

/** The woff2 for a served file name, cut on first use; null for a name we do not serve. */
export function fontFile(file: string): Promise<Buffer> | null {
  const wanted = parse(file);
  if (!wanted) return null;
  let font = built.get(file);
  if (!font) {
    const face = FACES[wanted.face];
    const weight = WEIGHTS[wanted.weight];
    font = (async () => {
      const source = require.resolve(`@expo-google-fonts/${face.pkg}/${weight}/${face.file}_${weight}.ttf`);
      const { version } = require(`@expo-google-fonts/${face.pkg}/package.json`) as { version: string };
      const cached = path.join(CACHE_DIR, `${FONTS_VERSION}-${version}-${file}`);
      const kept = await fs.readFile(cached).catch(() => null);
      if (kept) return kept;
      const cut = await subsetFont(await fs.readFile(source), face.text, { targetFormat: 'woff2' });
      // Written aside and renamed, so a process reading meanwhile never sees half a font. A read-only
      // install simply cuts again next time.
      const partial = `${cached}.${process.pid}.partial`;
      await fs
        .mkdir(CACHE_DIR, { recursive: true })
        .then(() => fs.writeFile(partial, cut))
        .then(() => fs.rename(partial, cached))
        .catch(() => fs.rm(partial, { force: true }));
      return cut;
    })();
    // A failure (package missing) is not remembered: the next request tries again.
    font.catch(() => built.delete(file));
    built.set(file, font);
  }
  return font;
}

/**
 * Cuts every font before the first reader asks, so no page waits on it (a browser holds the load
 * event for the fonts a page uses). A failure is logged by the caller and retried on request.
 */
export async function prepareFonts(): Promise<void> {
  for (const file of FONT_FILES) await fontFile(file);
}

/** Serves the fonts under FONTS_PATH with a year's caching: the version in the path changes with them. */
export function registerFonts(app: Express): void {
  app.get(`${FONTS_PATH}/:file`, async (req, res, next) => {
    const font = fontFile(req.params.file);
    if (!font) return next();
    const body = await font;
    res
      .status(200)
      .set({
        'Content-Type': 'font/woff2',
        'Cache-Control': 'public, max-age=31536000, immutable',
      })
      .send(body);
  });
}
