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

/** The two parts of an update, as the form names them: `title.<locale>`, `body.<locale>`. */
export const UPDATE_PARTS = ['title', 'body'] as const;

/** What was typed in the update form, trimmed, keyed by field name; nothing else from the body. */
export function readUpdateValues(body: Body, locales: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const locale of locales)
    for (const part of UPDATE_PARTS) {
      const value = text(body, `${part}.${locale}`);
      if (value) values[`${part}.${locale}`] = value;
    }
  return values;
}

/** The update's texts by locale: a locale is kept if anything was written in it. */
export function updateTexts(
  values: Record<string, string>,
  locales: readonly string[],
): Record<string, { title: string; body: string }> {
  const texts: Record<string, { title: string; body: string }> = {};
  for (const locale of locales) {
    const title = values[`title.${locale}`] ?? '';
    const body = values[`body.${locale}`] ?? '';
    if (title || body) texts[locale] = { title, body };
  }
  return texts;
}

/**
 * Fills the target language's empty boxes with the source language's text: a start for a translator,
 * never over something already written.
 */
export function copyUpdateText(
  values: Record<string, string>,
  source: string,
  target: string,
): Record<string, string> {
  const copied = { ...values };
  for (const part of UPDATE_PARTS) {
    const from = values[`${part}.${source}`];
    if (from && !copied[`${part}.${target}`]) copied[`${part}.${target}`] = from;
  }
  return copied;
}

/** For each part of an update, the languages with nothing written yet. */
export function missingUpdateLanguages(
  values: Record<string, string>,
  locales: readonly string[],
): Record<(typeof UPDATE_PARTS)[number], string[]> {
  return {
    title: locales.filter((locale) => !values[`title.${locale}`]),
    body: locales.filter((locale) => !values[`body.${locale}`]),
  };
}

/** The default language first (it is required), then the others in their usual order. */
export function updateLocaleOrder(locales: readonly string[], defaultLocale: string): string[] {
  return [defaultLocale, ...locales.filter((locale) => locale !== defaultLocale)];
}

/** For each text of the incident, the languages it is missing in: the editor's warning before approval. */
export function missingLanguagesByField(
  texts: Record<string, Partial<IncidentText>>,
  locales: readonly string[],
): { field: (typeof TEXT_FIELDS)[number]; locales: string[] }[] {
  return TEXT_FIELDS.map((field) => ({
    field,
    locales: locales.filter((locale) => !texts[locale]?.[field]?.trim()),
  })).filter((entry) => entry.locales.length > 0);
}
