/**
 * Times said relative to when they were said, which chrono reads as one day or not at all and a
 * question did not read: vague counts ("a few days ago", "several months ago"), decades and
 * fortnights back, "half a year ago", "the other day", "recently", "the past few weeks", "the day
 * after tomorrow", and "in two weeks", which is a time only in words about the future: "She learned
 * Spanish in two years" says how long it took, not when. One reading for a retained sentence
 * (src/retain/time-expressions.ts) and a question (src/recall/temporal-query.ts).
 */
import { COUNT, type TimePhrase, type TimeSpan, countOf, daysFrom, shifted, utcDay } from './calendar.js';
import { isoWeek } from './weeks.js';

type Unit = 'day' | 'week' | 'month' | 'year';

/** The day, ISO week, month or year `offset` of them from the one containing `now`. */
function unitSpan(now: Date, unit: Unit, offset: number): TimeSpan {
  const [year, month, day] = [now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate()];
  switch (unit) {
    case 'day':
      return daysFrom(utcDay(year, month, day), offset, 1);
    case 'week':
      return isoWeek(now, offset);
    case 'month':
      return { start: utcDay(year, month + offset, 1), end: utcDay(year, month + offset + 1, 1) };
    case 'year':
      return { start: utcDay(year + offset, 1, 1), end: utcDay(year + offset + 1, 1, 1) };
  }
}

/** From the `from`th unit to the `to`th, counted from the one containing `now`. */
function unitsFromTo(now: Date, unit: Unit, from: number, to: number): TimeSpan {
  return { start: unitSpan(now, unit, from).start, end: unitSpan(now, unit, to).end };
}

/** From the day `count` units before `now` to the end of `now`'s day: a window up to when it was said. */
function windowUpTo(now: Date, unit: Unit, count: number): TimeSpan {
  return { start: unitSpan(shifted(now, unit, -count), 'day', 0).start, end: unitSpan(now, 'day', 0).end };
}

/** From the start of `now`'s day to the end of the day `count` units on: a window from when it was said. */
function windowFrom(now: Date, unit: Unit, count: number): TimeSpan {
  return { start: unitSpan(now, 'day', 0).start, end: unitSpan(shifted(now, unit, count), 'day', 0).end };
}

/** How many a vague count may be: "a few" two to four, "several" three to seven. */
const VAGUE_COUNTS: Record<string, [least: number, most: number]> = { few: [2, 4], several: [3, 7] };

/** A count in words or digits, or a vague one ("a few", "several") taken at its least or its most. */
function countIn(words: string, vagueAt: 'least' | 'most'): number {
  const vague = VAGUE_COUNTS[words.toLowerCase().replace(/^a\s+/, '')];
  return vague ? vague[vagueAt === 'least' ? 0 : 1] : countOf(words);
}

/** How far back "recently" and "lately" reach, and how far ahead "coming up". */
const RECENT_DAYS = 30;

const UNIT = '(day|week|month|year)s?';
const unitOf = (word: string) => word.toLowerCase() as Unit;

export const RELATIVE_PHRASES: TimePhrase[] = [
  {
    // "a few days ago", "several months ago": the units that many back.
    vague: true,
    unit: 'day',
    source: `\\b(?:a\\s+)?(few|several)\\s+${UNIT}\\s+ago\\b`,
    resolve: (match, now) => {
      const [least, most] = VAGUE_COUNTS[match[1].toLowerCase()];
      return unitsFromTo(now, unitOf(match[2]), -most, -least);
    },
  },
  {
    // "in the past few days", "over the last several weeks": up to when it was said.
    vague: true,
    unit: 'day',
    source: `\\b(?:(?:in|over|during)\\s+)?the\\s+(?:last|past)\\s+(few|several)\\s+${UNIT}\\b`,
    resolve: (match, now) => windowUpTo(now, unitOf(match[2]), VAGUE_COUNTS[match[1].toLowerCase()][1]),
  },
  {
    // "in the next 10 days", "over the next few weeks", "during the coming week": from when it was
    // said, as "the past week" runs up to it ("next week" alone is the ISO week, src/time/weeks.ts).
    // The coming weeks, without a count, are a few. A preposition before it: "The next day, Anna
    // left" tells of the day after something else.
    unit: 'day',
    source: `\\b(?:in|over|during|within|for)\\s+the\\s+(?:next|coming)\\s+(?:(${COUNT}|few|several)\\s+)?(day|week|month|year)(s?)\\b`,
    resolve: (match, now) => {
      const count = match[1] ? countIn(match[1], 'most') : match[3] ? VAGUE_COUNTS.few[1] : 1;
      return windowFrom(now, unitOf(match[2]), count);
    },
  },
  {
    // "recently", "lately", "of late"; not "until recently", which ends there.
    vague: true,
    unit: 'day',
    source: '(?<!\\b(?:until|till|up\\s+to)\\s+)\\b(?:recently|lately|of\\s+late)\\b',
    resolve: (_match, now) => windowUpTo(now, 'day', RECENT_DAYS),
  },
  {
    // "coming up", "upcoming", and "soon" in words about the future: the 30 days from when it was
    // said, as "recently" is the 30 before ("What do I have coming up?"). Not "as soon as", nor the
    // "soon" of a story ("Anna soon found a job").
    vague: true,
    unit: 'day',
    source: '(?<!\\bas\\s+)\\b(coming\\s+up|upcoming|soon)\\b',
    resolve: (match, now, future) => (/^soon$/i.test(match[1]) && !future ? null : windowFrom(now, 'day', RECENT_DAYS)),
  },
  {
    // "the other day": a day of the week before.
    vague: true,
    unit: 'day',
    source: '\\bthe\\s+other\\s+day\\b',
    resolve: (_match, now) => unitsFromTo(now, 'day', -6, -1),
  },
  {
    // "a decade ago", "two decades ago": the year, as "ten years ago" is.
    unit: 'day',
    source: `\\b(${COUNT})\\s+decades?\\s+ago\\b`,
    resolve: (match, now) => unitSpan(now, 'year', -10 * countOf(match[1])),
  },
  {
    // "a year and a half ago", "half a year ago": the month, as "18 months ago" is.
    unit: 'day',
    source: '\\b(?:(a|one)\\s+year\\s+and\\s+a\\s+half|half\\s+a\\s+year)\\s+ago\\b',
    resolve: (match, now) => unitSpan(now, 'month', match[1] ? -18 : -6),
  },
  {
    // "a fortnight ago": the week, as "two weeks ago" is.
    unit: 'day',
    source: `\\b(${COUNT})\\s+fortnights?\\s+ago\\b`,
    resolve: (match, now) => unitSpan(now, 'week', -2 * countOf(match[1])),
  },
  {
    // "a week from today", "two days from tomorrow", "a year from now": that day.
    unit: 'day',
    source: `\\b(${COUNT})\\s+${UNIT}\\s+(?:from|after)\\s+(today|now|tomorrow)\\b`,
    resolve: (match, now) => {
      const from = /^tomorrow$/i.test(match[3]) ? shifted(now, 'day', 1) : now;
      return unitSpan(shifted(from, unitOf(match[2]), countOf(match[1])), 'day', 0);
    },
  },
  {
    // "a week ago today": that day, where "a week ago" alone is the week.
    unit: 'day',
    source: `\\b(${COUNT})\\s+${UNIT}\\s+ago\\s+today\\b`,
    resolve: (match, now) => unitSpan(shifted(now, unitOf(match[2]), -countOf(match[1])), 'day', 0),
  },
  {
    unit: 'day',
    source: '\\b(?:the\\s+)?day\\s+after\\s+tomorrow\\b',
    resolve: (_match, now) => unitSpan(now, 'day', 2),
  },
  {
    // "in two weeks", "in a few days": the day, ISO week, month or year that far on, in words about
    // the future; elsewhere how long something took, which is no time at all. Hours are chrono's.
    unit: 'day',
    source: `\\bin\\s+(${COUNT}|a\\s+few|several)\\s+${UNIT}\\b`,
    resolve: (match, now, future) => {
      if (!future) return null;
      return unitSpan(now, unitOf(match[2]), countIn(match[1], 'least'));
    },
  },
];
