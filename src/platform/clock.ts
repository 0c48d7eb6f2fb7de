/** Time as a dependency, so calling hours and deadlines can be tested at 23:00 without waiting. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function fixedClock(start: Date): Clock & { set(date: Date): void } {
  let current = start;
  return {
    now: () => new Date(current.getTime()),
    set(date) {
      current = date;
    },
  };
}
