import { CHANNELS, type Channel } from '../channels/kinds.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { positiveId } from '../platform/ids.js';
import { MESSAGE_STATUSES, type MessageStatus } from './status.js';

/**
 * Which deliveries a search asks for. Dates are whole days in UTC (incidents carry no time zone of
 * their own), inclusive at both ends, on the day the message was queued.
 */
export interface DeliveryFilter {
  incidentId: number | null;
  campaignId: number | null;
  status: MessageStatus | null;
  /** 'none': people we held no usable contact for. */
  channel: Channel | 'none' | null;
  /** The language the message was written in. */
  locale: string | null;
  from: string | null;
  to: string | null;
}

export const EMPTY_DELIVERY_FILTER: DeliveryFilter = {
  incidentId: null,
  campaignId: null,
  status: null,
  channel: null,
  locale: null,
  from: null,
  to: null,
};

export const DELIVERY_PAGE_SIZE = 50;
export const DELIVERY_PAGE_MAX = 500;

/** A refused filter value: the field it came in, and a locale key saying what is wrong with it. */
export interface FilterError {
  field: 'incident' | 'campaign' | 'status' | 'channel' | 'language' | 'from' | 'to' | 'before' | 'limit';
  messageKey: string;
}

export type FilterResult =
  | {
      ok: true;
      filter: DeliveryFilter;
      /** Keyset cursor: only messages with a smaller id (newest first). */
      before: number | null;
      limit: number;
    }
  | { ok: false; errors: FilterError[] };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar day written YYYY-MM-DD (what `<input type="date">` sends), or null. */
export function parseDay(value: string): string | null {
  const match = DAY.exec(value);
  if (!match) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value ? value : null;
}

/** The first instant of a UTC day, and of the day after it (the end of an inclusive range). */
export function startOfDay(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}
export function startOfNextDay(day: string): Date {
  return new Date(startOfDay(day).getTime() + 86_400_000);
}

/**
 * Reads a search from a query string, for the console page, its CSV and the API alike. Empty values
 * mean "any"; anything else must be one of the known values, or the whole search is refused with
 * every problem named, rather than quietly ignoring a filter someone meant.
 */
export function parseDeliveryFilter(query: Record<string, unknown>): FilterResult {
  const errors: FilterError[] = [];
  const text = (name: string): string => {
    const value = query[name];
    return typeof value === 'string' ? value.trim() : Array.isArray(value) ? '\u0000' : '';
  };
  const id = (name: string, field: FilterError['field'], key: string): number | null => {
    const value = text(name);
    if (value === '') return null;
    const parsed = /^\d+$/.test(value) ? positiveId(value) : null;
    if (parsed === null) errors.push({ field, messageKey: key });
    return parsed;
  };
  const oneOf = <T extends string>(
    name: string,
    field: FilterError['field'],
    allowed: readonly T[],
    key: string,
  ): T | null => {
    const value = text(name);
    if (value === '') return null;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    errors.push({ field, messageKey: key });
    return null;
  };
  const day = (name: 'from' | 'to'): string | null => {
    const value = text(name);
    if (value === '') return null;
    const parsed = parseDay(value);
    if (!parsed) errors.push({ field: name, messageKey: 'deliveries:errors.dateInvalid' });
    return parsed;
  };

  const filter: DeliveryFilter = {
    incidentId: id('incident', 'incident', 'deliveries:errors.incidentInvalid'),
    campaignId: id('campaign', 'campaign', 'deliveries:errors.campaignInvalid'),
    status: oneOf('status', 'status', MESSAGE_STATUSES, 'deliveries:errors.statusInvalid'),
    channel: oneOf('channel', 'channel', [...CHANNELS, 'none'] as const, 'deliveries:errors.channelInvalid'),
    locale: oneOf('language', 'language', SUPPORTED_LOCALES, 'deliveries:errors.languageInvalid'),
    from: day('from'),
    to: day('to'),
  };
  if (filter.from && filter.to && filter.from > filter.to)
    errors.push({ field: 'to', messageKey: 'deliveries:errors.rangeBackwards' });
  const before = id('before', 'before', 'deliveries:errors.pageInvalid');
  const limitText = text('limit');
  let limit = DELIVERY_PAGE_SIZE;
  if (limitText !== '') {
    const parsed = /^\d+$/.test(limitText) ? Number(limitText) : NaN;
    if (!(parsed >= 1 && parsed <= DELIVERY_PAGE_MAX))
      errors.push({ field: 'limit', messageKey: 'deliveries:errors.limitInvalid' });
    else limit = parsed;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, filter, before, limit };
}

/** The query string of a filter (and a page cursor), for "next page" and CSV links. */
export function filterQuery(filter: DeliveryFilter, extra: Record<string, string | number> = {}): string {
  const pairs: [string, string][] = [];
  const add = (name: string, value: string | number | null) => {
    if (value !== null && value !== '') pairs.push([name, String(value)]);
  };
  add('incident', filter.incidentId);
  add('campaign', filter.campaignId);
  add('status', filter.status);
  add('channel', filter.channel);
  add('language', filter.locale);
  add('from', filter.from);
  add('to', filter.to);
  for (const [name, value] of Object.entries(extra)) add(name, value);
  return new URLSearchParams(pairs).toString();
}
