import { describe, expect, it } from 'vitest';
import { SUPPORTED_LOCALES } from '../../src/platform/i18n.js';
import {
  formatDate,
  formatDateTime,
  formatHours,
  formatTime,
  zoneName,
} from '../../src/platform/time-format.js';

const winter = new Date('2026-01-15T17:30:00Z');
const summer = new Date('2026-07-15T17:30:00Z');

describe('showing a moment', () => {
  it('names the zone in every language', () => {
    for (const lang of SUPPORTED_LOCALES) {
      for (const timeZone of ['UTC', 'Europe/London', 'America/New_York', 'Asia/Kolkata']) {
        const zone = zoneName(winter, { lang, timeZone });
        expect(zone, `${lang} ${timeZone}`).not.toBe('');
        expect(formatDateTime(winter, { lang, timeZone }), `${lang} ${timeZone}`).toContain(zone);
        expect(formatTime(winter, { lang, timeZone }), `${lang} ${timeZone}`).toContain(zone);
      }
    }
  });

  it('shows the time in the zone asked for, and the zone’s name for that day', () => {
    expect(formatDateTime(winter, { lang: 'en-GB', timeZone: 'Europe/London' })).toBe(
      '15 January 2026 at 17:30 GMT',
    );
    expect(formatDateTime(summer, { lang: 'en-GB', timeZone: 'Europe/London' })).toBe(
      '15 July 2026 at 18:30 BST',
    );
    expect(formatDateTime(winter, { lang: 'en', timeZone: 'America/New_York', style: 'short' })).toBe(
      'Jan 15, 2026, 12:30 PM EST',
    );
    expect(formatDateTime(winter, { lang: 'fr', timeZone: 'Europe/Paris' })).toBe(
      '15 janvier 2026 à 18:30 UTC+1',
    );
  });

  it('gives the date as it falls in the zone', () => {
    const lateEvening = new Date('2026-01-15T23:30:00Z');
    expect(formatDate(lateEvening, { lang: 'en-GB', timeZone: 'UTC' })).toBe('15 January 2026');
    expect(formatDate(lateEvening, { lang: 'en-GB', timeZone: 'Asia/Tokyo' })).toBe('16 January 2026');
  });

  it('shows a callback slot’s local hours with the zone of the person on that day', () => {
    const evening = { startMinute: 17 * 60, endMinute: 20 * 60 };
    expect(formatHours(evening, { lang: 'en-GB', timeZone: 'Europe/London', on: winter })).toBe(
      '17:00–20:00 GMT',
    );
    expect(formatHours(evening, { lang: 'en-GB', timeZone: 'Europe/London', on: summer })).toBe(
      '17:00–20:00 BST',
    );
    expect(formatHours(evening, { lang: 'en', timeZone: 'America/New_York', on: winter })).toBe(
      '5:00 PM–8:00 PM EST',
    );
  });

  it('falls back to UTC, named, for a zone it does not know rather than failing the page', () => {
    expect(formatDateTime(winter, { lang: 'en-GB', timeZone: 'Mars/Olympus_Mons' })).toBe(
      '15 January 2026 at 17:30 UTC',
    );
  });
});
