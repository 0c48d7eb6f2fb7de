import { describe, expect, it } from 'vitest';
import { countdown, dueTimeOf, regulatorDeadlines } from '../../src/checklist/deadlines.js';

const discoveredAt = new Date('2026-11-20T09:00:00Z');
const now = new Date('2026-11-21T10:30:00Z');

describe('regulator deadlines', () => {
  it('gives GDPR countries one 72-hour deadline from discovery, and the UK its own', () => {
    const { deadlines, unregulated } = regulatorDeadlines({
      discoveredAt,
      now,
      peopleByCountry: [
        { country: 'FR', people: 10 },
        { country: 'DE', people: 5 },
        { country: 'GB', people: 7 },
      ],
      configuredHours: {},
    });
    expect(deadlines).toEqual([
      {
        jurisdiction: 'EU',
        countries: ['DE', 'FR'],
        people: 15,
        hours: 72,
        dueAt: new Date('2026-11-23T09:00:00Z'),
        remainingMs: (72 - 25.5) * 3_600_000,
      },
      expect.objectContaining({ jurisdiction: 'GB', countries: ['GB'], people: 7, hours: 72 }),
    ]);
    expect(unregulated).toEqual([]);
  });

  it('uses configured hours for other countries, and lists countries with no rule apart', () => {
    const { deadlines, unregulated } = regulatorDeadlines({
      discoveredAt,
      now,
      peopleByCountry: [
        { country: 'US', people: 3 },
        { country: 'BR', people: 2 },
        { country: null, people: 1 },
      ],
      configuredHours: { US: 720 },
    });
    expect(deadlines.map((d) => [d.jurisdiction, d.hours, d.dueAt.toISOString()])).toEqual([
      ['US', 720, '2026-12-20T09:00:00.000Z'],
    ]);
    expect(unregulated).toEqual([
      { country: 'BR', people: 2 },
      { country: null, people: 1 },
    ]);
  });

  it('lets configuration override a built-in deadline', () => {
    const { deadlines } = regulatorDeadlines({
      discoveredAt,
      now,
      peopleByCountry: [{ country: 'GB', people: 1 }],
      configuredHours: { GB: 24 },
    });
    expect(deadlines[0]).toMatchObject({ jurisdiction: 'GB', hours: 24 });
  });

  it('orders deadlines soonest first', () => {
    const { deadlines } = regulatorDeadlines({
      discoveredAt,
      now,
      peopleByCountry: [
        { country: 'US', people: 1 },
        { country: 'IE', people: 1 },
      ],
      configuredHours: { US: 24 },
    });
    expect(deadlines.map((d) => d.jurisdiction)).toEqual(['US', 'EU']);
  });
});

describe('countdowns', () => {
  it('counts down in days, hours and minutes', () => {
    expect(countdown((2 * 24 + 5) * 3_600_000 + 7 * 60_000 + 59_000)).toEqual({
      overdue: false,
      days: 2,
      hours: 5,
      minutes: 7,
    });
  });

  it('says how long overdue a deadline is', () => {
    expect(countdown(-3 * 3_600_000)).toEqual({ overdue: true, days: 0, hours: 3, minutes: 0 });
  });
});

describe('checklist due times', () => {
  const { deadlines } = regulatorDeadlines({
    discoveredAt,
    now,
    peopleByCountry: [{ country: 'FR', people: 1 }],
    configuredHours: {},
  });

  it('makes telling the authorities due at the earliest regulator deadline unless staff set a time', () => {
    expect(dueTimeOf('notify_authorities', null, deadlines)).toEqual(new Date('2026-11-23T09:00:00Z'));
    const chosen = new Date('2026-11-22T09:00:00Z');
    expect(dueTimeOf('notify_authorities', chosen, deadlines)).toEqual(chosen);
    expect(dueTimeOf('review', null, deadlines)).toBeNull();
  });
});
