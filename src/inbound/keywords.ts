/**
 * The words that steer an SMS conversation: stop, start again, help. Pure.
 *
 * Carriers and Twilio read a text as a keyword only when it is the keyword alone ("STOP", not
 * "please stop the texts"), in any case, with spaces or a full stop around it; so do we. Each of our
 * languages has its own words, and a few spellings people type without accents or hamza. The
 * language of the word is returned too: it is the best guess at how to answer a number we do not know.
 * A bare "yes" is not a keyword here (Twilio's own list has it): to a breach notice it is more likely
 * an answer than a wish to resume texts, so it reaches a person.
 */
export type SmsKeyword = 'stop' | 'start' | 'help';

export interface KeywordMatch {
  keyword: SmsKeyword;
  /** The locale the word belongs to (English for the carrier-standard ones). */
  locale: string;
  /** The word as normalised, for the opt-out record. */
  word: string;
}

const WORDS: Record<SmsKeyword, Record<string, readonly string[]>> = {
  stop: {
    en: ['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit', 'optout', 'revoke'],
    fr: ['arret', 'arrêt', 'arreter', 'arrêter', 'stopper', 'desabonner', 'désabonner'],
    es: ['alto', 'parar', 'baja', 'cancelar', 'detener'],
    de: ['stopp', 'abmelden', 'beenden', 'abbestellen'],
    pt: ['sair', 'cancelar', 'parar', 'pare'],
    'zh-Hans': ['退订', '取消', '停止', 'td'],
    ar: ['إيقاف', 'ايقاف', 'الغاء', 'إلغاء', 'توقف'],
    hi: ['रोकें', 'रोको', 'बंद', 'बन्द'],
  },
  start: {
    en: ['start', 'unstop', 'resume'],
    fr: ['reprendre', 'demarrer', 'démarrer'],
    es: ['alta', 'reanudar'],
    de: ['anmelden', 'fortsetzen'],
    pt: ['iniciar', 'retomar'],
    'zh-Hans': ['订阅', '开始', '恢复'],
    ar: ['ابدأ', 'ابدا', 'استئناف'],
    hi: ['शुरू', 'चालू'],
  },
  help: {
    en: ['help', 'info'],
    fr: ['aide'],
    es: ['ayuda'],
    de: ['hilfe'],
    pt: ['ajuda'],
    'zh-Hans': ['帮助', '求助'],
    ar: ['مساعدة', 'مساعده'],
    hi: ['मदद', 'सहायता'],
  },
};

/** Case, width and surrounding spaces and punctuation do not matter; the letters inside do. */
export function normaliseKeyword(text: string): string {
  return text
    .normalize('NFKC')
    .trim()
    .replace(/^[\s"'“”«»¡¿.!?。！？،؟।:;,-]+|[\s"'“”«».!?。！？،؟।:;,-]+$/gu, '')
    .toLocaleLowerCase('en');
}

const TABLE = new Map<string, KeywordMatch>();
// Where two languages share a word (es/pt "parar", "cancelar"), the first listed names its language:
// both mean the same, so only the language of an answer to an unknown number depends on it.
for (const keyword of ['stop', 'start', 'help'] as const)
  for (const [locale, words] of Object.entries(WORDS[keyword]))
    for (const word of words) {
      const normal = normaliseKeyword(word);
      if (!TABLE.has(normal)) TABLE.set(normal, { keyword, locale, word: normal });
    }

/** The keyword a text is, or null when it is anything else (a question, a sentence, a keyword with more). */
export function classifySms(body: string): KeywordMatch | null {
  const normal = normaliseKeyword(body);
  if (normal.length === 0 || normal.length > 20) return null;
  return TABLE.get(normal) ?? null;
}

/** Every word, by keyword and locale: for the README and for the tests that walk them all. */
export const SMS_KEYWORDS: Readonly<typeof WORDS> = WORDS;
