/**
 * Every moment Candor shows a person, in one place: in the reader's language, in a named time zone,
 * and always saying which zone. "2:28 AM" alone is wrong for half the readers; "2:28 AM GMT" is not.
 * Public pages and the console use the organisation's zone (DEFAULT_TIME_ZONE); a person's own page
 * and their callback slots use the person's zone.
 */

export interface TimeFormatOptions {
  /** A BCP 47 language tag: the reader's language. */
  lang: string;
  /** An IANA zone, e.g. Europe/London. */
  timeZone: string;
}

const cache = new Map<string, Intl.DateTimeFormat>();

function attempt(lang: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat | null {
  try {
    return new Intl.DateTimeFormat(lang, options);
  } catch {
    return null;
  }
}

function formatter(lang: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}|${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (!format) {
    // An unknown zone, then an unknown language tag: UTC still says which zone it is in.
    format =
      attempt(lang, options) ??
      attempt(lang, { ...options, timeZone: 'UTC' }) ??
      attempt('en', { ...options, timeZone: 'UTC' })!;
    cache.set(key, format);
  }
  return format;
}

/**
 * A date and time with its zone: "2 March 2026 at 10:00 GMT", "2 mars 2026 à 11:00 UTC+1".
 * `short` abbreviates the month, for tables.
 */
export function formatDateTime(at: Date, options: TimeFormatOptions & { style?: 'long' | 'short' }): string {
  return formatter(options.lang, {
    timeZone: options.timeZone,
    year: 'numeric',
    month: options.style === 'short' ? 'short' : 'long',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(at);
}

/** A time of day with its zone ("14:05 GMT"), for a moment the reader knows the day of. */
export function formatTime(at: Date, options: TimeFormatOptions): string {
  return formatter(options.lang, {
    timeZone: options.timeZone,
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(at);
}

/** A calendar date as it falls in the zone ("2 March 2026"): a day needs its zone to be the right day. */
export function formatDate(at: Date, options: TimeFormatOptions): string {
  return formatter(options.lang, { timeZone: options.timeZone, dateStyle: 'long' }).format(at);
}

/** The zone's short name on that day, as the reader's language writes it: "GMT", "BST", "UTC+1". */
export function zoneName(at: Date, options: TimeFormatOptions): string {
  const parts = formatter(options.lang, { timeZone: options.timeZone, timeZoneName: 'short' }).formatToParts(
    at,
  );
  return parts.find((part) => part.type === 'timeZoneName')?.value ?? options.timeZone;
}

/** Local hours of a slot in the reader's language ("17:00–20:00" or "5:00 PM – 8:00 PM"), with the zone. */
export function formatHours(
  slot: { startMinute: number; endMinute: number },
  options: TimeFormatOptions & { on: Date },
): string {
  // The wall-clock hours are the same every day; only the zone's name depends on the day.
  const wall = (minute: number) => new Date(Date.UTC(2000, 0, 1, 0, minute));
  const hours = formatter(options.lang, { timeZone: 'UTC', hour: 'numeric', minute: '2-digit' });
  const range = `${hours.format(wall(slot.startMinute))}–${hours.format(wall(slot.endMinute))}`;
  return `${range} ${zoneName(options.on, options)}`;
}
