import type { IncidentText } from '../../incidents/store.js';

/** The parts of an incident notice, in the order a reader meets them. Pure helpers for the editor. */
export const TEXT_FIELDS = [
  'title',
  'whatHappened',
  'whatData',
  'whatWeDid',
  'whatYouShouldDo',
  'howToGetHelp',
] as const satisfies readonly (keyof IncidentText)[];

/** For each locale, the fields still empty: the editor flags them so no language is forgotten. */
export function missingTexts(
  texts: Record<string, Partial<IncidentText>>,
  locales: readonly string[],
): Record<string, (keyof IncidentText)[]> {
  return Object.fromEntries(
    locales.map((locale) => [locale, TEXT_FIELDS.filter((field) => !texts[locale]?.[field]?.trim())]),
  );
}

type Body = Record<string, unknown>;

function text(body: Body, key: string): string {
  const value = body[key];
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * Reads the side-by-side editor's fields (`text.<locale>.<field>`, `helpline.<locale>`). A locale is
 * kept only if something was written in it, so a half-done translation is visible as missing, not as empty text.
 */
export function readIncidentTexts(
  body: Body,
  locales: readonly string[],
): { texts: Record<string, IncidentText>; helplines: Record<string, string> } {
  const texts: Record<string, IncidentText> = {};
  const helplines: Record<string, string> = {};
  for (const locale of locales) {
    const entry = Object.fromEntries(
      TEXT_FIELDS.map((field) => [field, text(body, `text.${locale}.${field}`)]),
    ) as unknown as IncidentText;
    if (TEXT_FIELDS.some((field) => entry[field] !== '')) texts[locale] = entry;
    const helpline = text(body, `helpline.${locale}`);
    if (helpline) helplines[locale] = helpline;
  }
  return { texts, helplines };
}

export function readList(body: Body, key: string): string[] {
  const value = body[key];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
