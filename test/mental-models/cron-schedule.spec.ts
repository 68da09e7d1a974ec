import { CronSchedule } from '../../src/mental-models/cron-schedule.js';

const at = (iso: string) => new Date(iso);

describe('CronSchedule', () => {
  it('matches minutes, hours, steps, ranges, lists and names in UTC', () => {
    const hourly = CronSchedule.parse('0 * * * *');
    expect(hourly.matches(at('2026-03-02T10:00:00Z'))).toBe(true);
    expect(hourly.matches(at('2026-03-02T10:01:00Z'))).toBe(false);
    const weekdays = CronSchedule.parse('*/15 9-17 * * mon-fri');
    expect(weekdays.matches(at('2026-03-02T09:45:00Z'))).toBe(true); // a Monday
    expect(weekdays.matches(at('2026-03-01T09:45:00Z'))).toBe(false); // a Sunday
    expect(weekdays.matches(at('2026-03-02T18:00:00Z'))).toBe(false);
    expect(CronSchedule.parse('0 0 1,15 jan *').matches(at('2026-01-15T00:00:00Z'))).toBe(true);
    expect(CronSchedule.parse('30 0 0 * * 7').matches(at('2026-03-01T00:00:00Z'))).toBe(true); // seconds field, 7 = Sunday
  });

  it('fires on either day field when both are restricted, as cron does', () => {
    const schedule = CronSchedule.parse('0 0 1 * mon');
    expect(schedule.matches(at('2026-04-01T00:00:00Z'))).toBe(true); // the 1st, a Wednesday
    expect(schedule.matches(at('2026-03-02T00:00:00Z'))).toBe(true); // a Monday
    expect(schedule.matches(at('2026-03-03T00:00:00Z'))).toBe(false);
  });

  it('tells whether a slot fell in a half-open window', () => {
    const daily = CronSchedule.parse('0 6 * * *');
    expect(daily.firedBetween(at('2026-03-02T05:00:00Z'), at('2026-03-02T06:00:00Z'))).toBe(true);
    expect(daily.firedBetween(at('2026-03-02T06:00:00Z'), at('2026-03-03T05:59:00Z'))).toBe(false);
    expect(daily.firedBetween(at('2026-03-02T06:00:30Z'), at('2026-03-03T06:00:10Z'))).toBe(true);
  });

  it('refuses malformed expressions', () => {
    for (const bad of ['', '* * * *', '60 * * * *', '* 24 * * *', '5-1 * * * *', '*/0 * * * *', 'every day', '* * * foo *']) {
      expect(CronSchedule.isValid(bad)).toBe(false);
    }
  });
});
