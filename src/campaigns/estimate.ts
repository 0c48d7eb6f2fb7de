import { CALLING_HOURS_CHANNELS, withinCallingHours, type CallingHours } from './calling-hours.js';
import type { Channel } from '../channels/kinds.js';

/**
 * When will each channel finish? From what is left to send, the provider's rate and, for SMS and
 * calls, the calling hours of the time zones people live in. Pure: a small simulation in five-minute
 * steps, because a rate shared by every zone runs faster while more zones are open.
 */
export interface ChannelWorkload {
  channel: Channel;
  /** Messages left, split by the recipients' time zones (counts; they need not be whole). */
  byTimeZone: Record<string, number>;
}

export interface ChannelEstimate {
  channel: Channel;
  remaining: number;
  ratePerSecond: number;
  /** When the last message of this channel should go out; null if it cannot within a year. */
  finishesAt: Date | null;
  seconds: number | null;
}

const STEP_MS = 5 * 60_000;
const HORIZON_MS = 366 * 24 * 3600_000;

export function estimateCompletion(input: {
  now: Date;
  workloads: ChannelWorkload[];
  ratePerSecond: Record<Channel, number>;
  callingHours: CallingHours;
}): ChannelEstimate[] {
  return input.workloads.map((workload) => {
    const rate = input.ratePerSecond[workload.channel];
    const left = new Map(Object.entries(workload.byTimeZone).filter(([, n]) => n > 0));
    const remaining = [...left.values()].reduce((sum, n) => sum + n, 0);
    const done = (at: number): ChannelEstimate => ({
      channel: workload.channel,
      remaining,
      ratePerSecond: rate,
      finishesAt: new Date(at),
      seconds: Math.max(0, Math.round((at - input.now.getTime()) / 1000)),
    });
    const start = input.now.getTime();
    if (remaining === 0) return done(start);
    if (!CALLING_HOURS_CHANNELS.includes(workload.channel)) return done(start + (remaining / rate) * 1000);

    for (let at = start; at < start + HORIZON_MS; at += STEP_MS) {
      let capacity = (rate * STEP_MS) / 1000;
      const used = capacity;
      for (const [zone, count] of left) {
        if (capacity <= 0) break;
        if (!withinCallingHours(new Date(at), zone, input.callingHours)) continue;
        const sent = Math.min(count, capacity);
        capacity -= sent;
        if (count - sent <= 1e-9) left.delete(zone);
        else left.set(zone, count - sent);
      }
      if (left.size === 0) return done(at + ((used - capacity) / rate) * 1000);
    }
    return { channel: workload.channel, remaining, ratePerSecond: rate, finishesAt: null, seconds: null };
  });
}
