import type { Queryable } from '../platform/db.js';
import type { SendingConfig } from '../config.js';
import { resolveLocale } from '../platform/i18n.js';
import { toAudienceMember, type AudienceMember } from '../people/store.js';
import { channelForAttempt, type ChannelPolicy } from './channel-policy.js';
import type { Channel } from '../channels/kinds.js';
import { earliestSendTime, zoneOrDefault } from './calling-hours.js';
import type { ChannelWorkload } from './estimate.js';
import type { AudienceNarrowing } from './audience.js';
import { readAudiencePage, type Campaign, type ClaimScope } from './store.js';

/**
 * The audience plan: for each person of a campaign's audience, the first message the fan-out will
 * write (channel, the language actually used, when it may go) or why they are left out. The fan-out
 * writes exactly these rows and the approval page and the API summarise exactly them, so what an
 * approver signs off is what will be sent.
 */
export interface PlannedMessage {
  personId: number;
  /** null: no usable contact on file; the fan-out records it as failed, never silently skipped. */
  channel: Channel | null;
  /** The language the message is written in. */
  locale: string;
  /** The language on the person's record, when we have no text in it and use another. */
  fallbackFrom: string | null;
  /** Held for calling hours until then; null goes at once. */
  sendAfter: Date | null;
  timeZone: string;
}

export interface SkippedPerson {
  personId: number;
  /** The campaign that holds this person's live notice. */
  heldBy: number;
}

export interface PlanPage {
  messages: PlannedMessage[];
  skipped: SkippedPerson[];
  /** The last person id read: the fan-out's cursor moves here. */
  lastId: number;
}

function language(tag: string): string {
  return tag.split('-')[0]?.toLowerCase() ?? tag;
}

/** Pure: the first message for one person at `now`. */
export function planMessage(
  member: AudienceMember,
  policy: ChannelPolicy,
  now: Date,
  sending: Pick<SendingConfig, 'callingHours' | 'defaultTimeZone'>,
): PlannedMessage {
  const channel = channelForAttempt(member, policy, 1);
  const zone = zoneOrDefault(member.timeZone, sending.defaultTimeZone);
  const earliest = channel ? earliestSendTime(now, channel, zone, sending.callingHours) : now;
  const locale = resolveLocale(member.locale);
  return {
    personId: member.id,
    channel,
    locale,
    fallbackFrom: language(locale) === language(member.locale) ? null : member.locale,
    sendAfter: earliest > now ? earliest : null,
    timeZone: zone,
  };
}

/** One page of the plan, read the way the fan-out reads it; null when the audience is exhausted. */
export async function planAudiencePage(
  db: Queryable,
  input: {
    campaign: Campaign;
    scope: ClaimScope | null;
    after: number;
    limit: number;
    now: Date;
    sending: Pick<SendingConfig, 'callingHours' | 'defaultTimeZone'>;
    narrowings: readonly AudienceNarrowing[];
  },
): Promise<PlanPage | null> {
  const rows = await readAudiencePage(
    db,
    input.campaign,
    input.scope,
    input.after,
    input.limit,
    input.narrowings,
  );
  if (rows.length === 0) return null;
  const page: PlanPage = { messages: [], skipped: [], lastId: rows[rows.length - 1]!.id };
  for (const row of rows) {
    if (row.held_by !== null) page.skipped.push({ personId: row.id, heldBy: Number(row.held_by) });
    else
      page.messages.push(
        planMessage(toAudienceMember(row), input.campaign.channelPolicy, input.now, input.sending),
      );
  }
  return page;
}

/** What the approval page and the API show: the plan, counted. */
export interface AudiencePlanSummary {
  /** People who will get a first message row (those with no usable contact included, as 'none'). */
  people: number;
  /** Per channel and language actually used. */
  byChannelAndLocale: {
    channel: Channel | 'none';
    locale: string;
    people: number;
    /** Of those, held for calling hours. */
    held: number;
    /** Of those, written in this language although their record asks for another. */
    fallbackLanguage: number;
  }[];
  /** Held for calling hours: when they will go, per channel. */
  held: { channel: Channel; sendAfter: Date; timeZones: string[]; people: number }[];
  fallbackLanguages: { requested: string; used: string; people: number }[];
  /** Left out because another campaign already holds their live notice. */
  skipped: { campaignId: number; people: number }[];
  /** Messages per channel and time zone, for the finish estimate. */
  workloads: ChannelWorkload[];
}

/** Pure: adds pages of the plan up. */
export class PlanTally {
  private readonly cells = new Map<string, AudiencePlanSummary['byChannelAndLocale'][number]>();
  private readonly held = new Map<string, AudiencePlanSummary['held'][number]>();
  private readonly fallbacks = new Map<string, AudiencePlanSummary['fallbackLanguages'][number]>();
  private readonly skipped = new Map<number, number>();
  private readonly zones = new Map<Channel, Record<string, number>>();
  private people = 0;

  add(page: Pick<PlanPage, 'messages' | 'skipped'>): void {
    for (const message of page.messages) {
      this.people += 1;
      const channel = message.channel ?? 'none';
      const key = `${channel} ${message.locale}`;
      const cell = this.cells.get(key) ?? {
        channel,
        locale: message.locale,
        people: 0,
        held: 0,
        fallbackLanguage: 0,
      };
      cell.people += 1;
      if (message.sendAfter) cell.held += 1;
      if (message.fallbackFrom) cell.fallbackLanguage += 1;
      this.cells.set(key, cell);
      if (message.channel && message.sendAfter) {
        const heldKey = `${message.channel} ${message.sendAfter.getTime()}`;
        const entry = this.held.get(heldKey) ?? {
          channel: message.channel,
          sendAfter: message.sendAfter,
          timeZones: [],
          people: 0,
        };
        entry.people += 1;
        if (!entry.timeZones.includes(message.timeZone)) entry.timeZones.push(message.timeZone);
        this.held.set(heldKey, entry);
      }
      if (message.fallbackFrom) {
        const fallbackKey = `${message.fallbackFrom} ${message.locale}`;
        const entry = this.fallbacks.get(fallbackKey) ?? {
          requested: message.fallbackFrom,
          used: message.locale,
          people: 0,
        };
        entry.people += 1;
        this.fallbacks.set(fallbackKey, entry);
      }
      if (message.channel) {
        const byZone = this.zones.get(message.channel) ?? {};
        byZone[message.timeZone] = (byZone[message.timeZone] ?? 0) + 1;
        this.zones.set(message.channel, byZone);
      }
    }
    for (const person of page.skipped)
      this.skipped.set(person.heldBy, (this.skipped.get(person.heldBy) ?? 0) + 1);
  }

  summary(): AudiencePlanSummary {
    const byKey = <T>(entries: Map<string, T>) =>
      [...entries].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
    return {
      people: this.people,
      byChannelAndLocale: byKey(this.cells),
      held: [...this.held.values()].sort(
        (a, b) => a.sendAfter.getTime() - b.sendAfter.getTime() || a.channel.localeCompare(b.channel),
      ),
      fallbackLanguages: byKey(this.fallbacks),
      skipped: [...this.skipped]
        .sort(([a], [b]) => a - b)
        .map(([campaignId, people]) => ({ campaignId, people })),
      workloads: [...this.zones].map(([channel, byTimeZone]) => ({ channel, byTimeZone })),
    };
  }
}

/**
 * People who will read a message in a language the campaign's own text lacks: the incident's wording
 * (left out of their notice, which then carries only the standard text in their language) or, for an
 * update, the update itself (they get it in another language).
 */
export interface MissingTranslation {
  /** The language their message is written in. */
  locale: string;
  people: number;
  text: 'incident' | 'update';
  /** The language of the text they get instead; null when it is simply left out. */
  fallbackLocale: string | null;
}

/**
 * Pure: from the audience counted by the language on each record (a set-based count over the plan's
 * own audience, see countAudienceByLocale), which languages lack the text and how many people each.
 */
export function missingTranslations(input: {
  localeCounts: readonly { locale: string; people: number }[];
  kind: string;
  incidentTexts: Record<string, unknown>;
  updateTexts: Record<string, unknown> | null;
  defaultLocale: string;
}): MissingTranslation[] {
  const byLocale = new Map<string, number>();
  for (const row of input.localeCounts) {
    const locale = resolveLocale(row.locale);
    byLocale.set(locale, (byLocale.get(locale) ?? 0) + row.people);
  }
  const update = input.kind === 'update' ? input.updateTexts : null;
  const texts = update ?? input.incidentTexts;
  const fallbackLocale = update
    ? update[input.defaultLocale]
      ? input.defaultLocale
      : (Object.keys(update)[0] ?? null)
    : null;
  return [...byLocale]
    .filter(([locale, people]) => people > 0 && !texts[locale])
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([locale, people]) => ({
      locale,
      people,
      text: update ? 'update' : 'incident',
      fallbackLocale,
    }));
}
