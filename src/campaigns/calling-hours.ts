import type { Channel } from '../channels/kinds.js';

/**
 * Calling hours: SMS and calls reach people only inside a local window (08:00–21:00 unless
 * configured otherwise), in the person's own time zone. Outside it a send is deferred to the next
 * opening, never dropped. Pure: the time comes in as an argument.
 */
export interface CallingHours {
  /** Minutes after local midnight; the window is [startMinute, endMinute). */
  startMinute: number;
  endMinute: number;
}

export const CALLING_HOURS_CHANNELS: readonly Channel[] = ['sms', 'voice'];

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export function localParts(at: Date, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** How far the zone's wall clock is ahead of UTC at `at`, in ms. */
function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant the zone's clock shows `minuteOfDay` on the given local date (days may overflow). */
export function zonedTime(
  local: { year: number; month: number; day: number },
  minuteOfDay: number,
  timeZone: string,
): Date {
  const wall = Date.UTC(local.year, local.month - 1, local.day, 0, minuteOfDay);
  // Twice: the offset at the guess may differ from the offset at the answer across a DST change.
  const first = wall - offsetMs(new Date(wall), timeZone);
  return new Date(wall - offsetMs(new Date(first), timeZone));
}

/** Whether a local time falls inside the window. */
export function withinCallingHours(at: Date, timeZone: string, hours: CallingHours): boolean {
  const p = localParts(at, timeZone);
  const minute = p.hour * 60 + p.minute;
  return minute >= hours.startMinute && minute < hours.endMinute;
}

/**
 * The earliest moment at or after `at` when `channel` may reach a person in `timeZone`: `at` itself
 * for channels without calling hours or inside the window, else the next local opening.
 */
export function earliestSendTime(at: Date, channel: Channel, timeZone: string, hours: CallingHours): Date {
  if (!CALLING_HOURS_CHANNELS.includes(channel)) return at;
  if (withinCallingHours(at, timeZone, hours)) return at;
  const p = localParts(at, timeZone);
  const minute = p.hour * 60 + p.minute;
  const day = minute < hours.startMinute ? p.day : p.day + 1;
  return zonedTime({ year: p.year, month: p.month, day }, hours.startMinute, timeZone);
}

/** A person's zone, or the configured default when they were imported without one (or with a bad one). */
export function zoneOrDefault(timeZone: string | null, fallback: string): string {
  if (!timeZone) return fallback;
  try {
    formatter(timeZone);
    return timeZone;
  } catch {
    return fallback;
  }
}
