/**
 * The languages every notice text ships in (locales/<locale>/notices.json). The product's
 * SUPPORTED_LOCALES grows towards this list as the other namespaces are translated.
 */
export const NOTICE_LOCALES = ['en', 'fr', 'es', 'de', 'pt', 'zh-Hans', 'ar', 'hi'] as const;
export type NoticeLocale = (typeof NOTICE_LOCALES)[number];
