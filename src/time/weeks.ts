/**
 * Weeks and weekends, as a retained sentence (src/retain/time-expressions.ts) and a question
 * (src/recall/temporal-query.ts) both read them: a week is ISO 8601's, Monday to Sunday, in UTC,
 * and its weekend is its Saturday and Sunday. chrono, left to itself, read "last week" and "last
 * weekend" as one day, "this week" as a Sunday and "next Sunday" as the one after the coming one,
 * where a question read the whole week and did not know a weekend.
 */
import { COUNT, DAY_MS, type TimePhrase, type TimeSpan, WEEKDAY_NAMES, countOf, daysFrom, utcDay } from './calendar.js';

function mondayOf(moment: Date, weeksOn: number): Date {
  const day = utcDay(moment.getUTCFullYear(), moment.getUTCMonth() + 1, moment.getUTCDate());
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() + (weeksOn * 7 - sinceMonday) * DAY_MS);
}

/** The ISO week `weeksOn` weeks from the one containing `moment` (0: that week). */
export function isoWeek(moment: Date, weeksOn: number): TimeSpan {
  return daysFrom(mondayOf(moment, weeksOn), 0, 7);
}

/** The Saturday and Sunday of that week. */
export function weekend(moment: Date, weeksOn: number): TimeSpan {
  return daysFrom(mondayOf(moment, weeksOn), 5, 2);
}

/** A day of that week, Monday being 0. */
export function weekday(moment: Date, weeksOn: number, index: number): TimeSpan {
  return daysFrom(mondayOf(moment, weeksOn), index, 1);
}

/** "over the weekend": the last one that has begun, or in a sentence about the future the next that has not ended. */
function nearestWeekend(now: Date, future: boolean): TimeSpan {
  const current = weekend(now, 0);
  if (future) return current.end.getTime() > now.getTime() ? current : weekend(now, 1);
  return current.start.getTime() <= now.getTime() ? current : weekend(now, -1);
}

const OFFSET: Record<string, number> = { this: 0, next: 1, last: -1, previous: -1, past: -1 };
const WEEKDAY = WEEKDAY_NAMES.join('|');

/**
 * The phrases that name a week, a weekend or a day of a named week, and what each means at `now`.
 * Each parser builds its own expression from `source` (its own flags).
 */
export const WEEK_PHRASES: TimePhrase[] = [
  {
    // "the week before last", "the weekend after next"
    unit: 'day',
    source: '\\b(?:the\\s+)?(week|weekend)\\s+(before\\s+last|after\\s+next)\\b',
    resolve: (match, now) => {
      const weeksOn = /^before/i.test(match[2]) ? -2 : 2;
      return /^weekend$/i.test(match[1]) ? weekend(now, weeksOn) : isoWeek(now, weeksOn);
    },
  },
  {
    // "last week", "this past weekend", "next weekend"
    unit: 'day',
    source: '\\b(this\\s+past|last|previous|this|next)\\s+(week|weekend)\\b',
    resolve: (match, now) => {
      const weeksOn = OFFSET[match[1].split(/\s+/).pop()!.toLowerCase()];
      return /^weekend$/i.test(match[2]) ? weekend(now, weeksOn) : isoWeek(now, weeksOn);
    },
  },
  {
    // "three weeks ago": the week that moment falls in, as "three months ago" is a month
    unit: 'day',
    source: `\\b(${COUNT})\\s+weeks?\\s+ago\\b`,
    resolve: (match, now) => isoWeek(now, -countOf(match[1])),
  },
  {
    // "over the weekend", "at the weekend"
    unit: 'day',
    source: '\\b(?:over|at|on|during)\\s+the\\s+weekend\\b',
    resolve: (_match, now, future) => nearestWeekend(now, future),
  },
  {
    // "this coming weekend": the next that has not ended, whatever the tense
    unit: 'day',
    source: '\\bthis\\s+coming\\s+weekend\\b',
    resolve: (_match, now) => nearestWeekend(now, true),
  },
  {
    // "this Friday": the Friday of this week; "next Friday": of next week.
    unit: 'day',
    source: `\\b(this|next)\\s+(${WEEKDAY})\\b`,
    resolve: (match, now) => weekday(now, OFFSET[match[1].toLowerCase()], WEEKDAY_NAMES.indexOf(match[2].toLowerCase())),
  },
];
