import { clampInstant } from '../storage/storable-instant.js';
import { COUNT, DAY_MS, MONTH_WORDS, WEEKDAY_NAMES as WEEKDAYS, countOf, daysFrom, shifted } from '../time/calendar.js';
import { TIME_PHRASES } from '../time/phrases.js';
import { speaksOfTheFuture } from '../time/tense.js';
import { isoWeek } from '../time/weeks.js';

/**
 * Finds the time a question is about ("last week", "in March 2024", "3 days ago") and turns it
 * into a half-open range [start, end) relative to the question's "now". Pure: no clock, no I/O.
 *
 * Calendar arithmetic is in UTC: days start at 00:00 UTC and weeks on Monday (ISO 8601). Where a
 * query names several times, the range spans all of them ("between March 2024 and May 2024").
 *
 * Conventions, where English is ambiguous:
 * - `last week|month|year` is the previous calendar unit; `past week|month|year` and
 *   `last|past N days|weeks|months|years` are rolling windows ending now;
 * - `N days|weeks|months|years ago` is the calendar unit that contains that moment;
 * - a month or weekday without a year is the most recent one that has begun by "now" (the
 *   current one included); `last March` / `last Friday` exclude the current one;
 * - a season or holiday without a year is the most recent that has begun, `last` the most recent
 *   that has ended (src/time/annual.ts);
 * - in a question about the future ("will", "is Ana moving", src/time/tense.ts), a month, day,
 *   weekday, season or holiday without a year is the next one that has not ended;
 * - `since X` runs from the start of X to now;
 * - "may" is a month only next to a preposition, a day or a year ("in May", "May 2024"), because
 *   it is far more often the verb.
 */

export interface TemporalRange {
  start: Date;
  /** Exclusive. */
  end: Date;
  /** The phrases that produced the range, as they appear in the query. */
  expressions: string[];
}

interface Span {
  start: Date;
  end: Date;
}

interface Matcher {
  pattern: RegExp;
  resolve(match: RegExpExecArray, now: Date, future: boolean): Span | null;
  /** A vague time ("recently"): left out where the question also names a precise one (src/time/calendar.ts). */
  vague?: true;
  /**
   * A date without a year or week, read as the last one by now: in a question about the future
   * ("What will Ana do in August?") it is the next, one year or week on once it has ended.
   */
  undated?: 'year' | 'week';
}

interface Found {
  index: number;
  length: number;
  text: string;
  span: Span;
  vague?: true;
}

const ANY_MONTH = MONTH_WORDS.flat().join('|');
// Full names only when a month stands alone: "mar", "jun" or "dec" alone are more likely noise.
const FULL_MONTH_EXCEPT_MAY = MONTH_WORDS.map((names) => names[0])
  .filter((name) => name !== 'may')
  .join('|');
const UNIT = `(day|week|month|year)s?`;
const ORDINAL = `(?:st|nd|rd|th)?`;
const MONTH_PREPOSITION = `in|during|since|of|from|throughout|until|by|before|after`;

type Unit = 'day' | 'week' | 'month' | 'year';

/** Longer, more specific phrases first: at one position the first pattern listed wins a tie. */
const MATCHERS: Matcher[] = [
  {
    // 2024-03-05, optionally followed by a time that we ignore (the day is the unit of recall).
    pattern: /\b(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/gi,
    resolve: (m) => calendarDay(Number(m[1]), Number(m[2]), Number(m[3])),
  },
  {
    // "5 March 2024", "on the 5th of March, 2024"
    pattern: new RegExp(`\\b(?:on\\s+)?(?:the\\s+)?(\\d{1,2})${ORDINAL}\\s+(?:of\\s+)?(${ANY_MONTH})\\.?,?\\s+(\\d{4})\\b`, 'gi'),
    resolve: (m) => calendarDay(Number(m[3]), monthNumber(m[2]), Number(m[1])),
  },
  {
    // "March 5, 2024", "on March 5th 2024"
    pattern: new RegExp(`\\b(?:on\\s+)?(${ANY_MONTH})\\.?\\s+(\\d{1,2})${ORDINAL},?\\s+(\\d{4})\\b`, 'gi'),
    resolve: (m) => calendarDay(Number(m[3]), monthNumber(m[1]), Number(m[2])),
  },
  {
    // "March 2024", "March of 2024"
    pattern: new RegExp(`\\b(${ANY_MONTH})\\.?,?\\s+(?:of\\s+)?(\\d{4})\\b`, 'gi'),
    resolve: (m) => calendarMonth(Number(m[2]), monthNumber(m[1])),
  },
  {
    // "5 March", "the 5th of March"
    pattern: new RegExp(`\\b(?:on\\s+)?(?:the\\s+)?(\\d{1,2})${ORDINAL}\\s+(?:of\\s+)?(${ANY_MONTH})\\b`, 'gi'),
    resolve: (m, now) => mostRecentDayOfYear(now, monthNumber(m[2]), Number(m[1])),
    undated: 'year',
  },
  {
    // "March 5", "on March 5th"
    pattern: new RegExp(`\\b(?:on\\s+)?(${ANY_MONTH})\\.?\\s+(\\d{1,2})${ORDINAL}\\b(?!\\s*[:.]?\\d)`, 'gi'),
    resolve: (m, now) => mostRecentDayOfYear(now, monthNumber(m[1]), Number(m[2])),
    undated: 'year',
  },
  {
    // A year needs a preposition: a bare four-digit number is as likely a count or an amount.
    pattern: /(?<=\b(?:in|during|throughout|since|of|from|until|before|after|year)\s+)(\d{4})\b/gi,
    resolve: (m) => calendarYear(Number(m[1])),
  },
  // Weeks and weekends, parts of a year and decades, seasons and holidays, read as a retained
  // sentence reads them (src/time/phrases.ts).
  ...TIME_PHRASES.map(({ source, resolve, vague }) => ({ pattern: new RegExp(source, 'gi'), resolve, vague })),
  {
    // "between 2018 and 2021", "from 2015 to 2017", "in 2018-2021": the year alone took the first
    // only, or none after "between".
    pattern: /\b(?:from|between|in|during)\s+(\d{4})\s*(?:to|until|till|through|and|-|\u2013)\s*(\d{4})\b/gi,
    resolve: (m) => yearSpan(Number(m[1]), Number(m[2])),
  },
  {
    pattern: /\bthe day before yesterday\b/gi,
    resolve: (_m, now) => daysFrom(startOfDay(now), -2, 1),
  },
  {
    pattern: /\b(?:yesterday|last\s+night)\b/gi,
    resolve: (_m, now) => daysFrom(startOfDay(now), -1, 1),
  },
  {
    pattern: /\b(?:today|tonight|this (?:morning|afternoon|evening))\b/gi,
    resolve: (_m, now) => daysFrom(startOfDay(now), 0, 1),
  },
  {
    pattern: /\btomorrow\b/gi,
    resolve: (_m, now) => daysFrom(startOfDay(now), 1, 1),
  },
  {
    // "3 days ago", "a couple of weeks ago", "two months ago"
    pattern: new RegExp(`\\b(${COUNT})\\s+${UNIT}\\s+ago\\b`, 'gi'),
    resolve: (m, now) => {
      const unit = m[2].toLowerCase() as Unit;
      return unitContaining(unit, minus(now, unit, countOf(m[1])));
    },
  },
  {
    // "in the last 10 days", "over the past two weeks": rolling windows that end now.
    pattern: new RegExp(`\\b(?:last|past|previous)\\s+(${COUNT})\\s+${UNIT}\\b`, 'gi'),
    resolve: (m, now) => rollingWindow(now, m[2].toLowerCase() as Unit, countOf(m[1])),
  },
  {
    pattern: /\bpast\s+(day|week|month|year)\b/gi,
    resolve: (m, now) => rollingWindow(now, m[1].toLowerCase() as Unit, 1),
  },
  {
    pattern: /\b(?:last|previous)\s+(week|month|year)\b/gi,
    resolve: (m, now) => {
      const unit = m[1].toLowerCase() as Unit;
      return unitContaining(unit, minus(now, unit, 1));
    },
  },
  {
    pattern: /\b(?:this|current)\s+(week|month|year)\b/gi,
    resolve: (m, now) => unitContaining(m[1].toLowerCase() as Unit, now),
  },
  {
    // "next month", "next year", as a retained sentence reads them ("next week" is src/time's).
    pattern: /\bnext\s+(month|year)\b/gi,
    resolve: (m, now) => {
      const unit = m[1].toLowerCase() as Unit;
      return unitContaining(unit, minus(now, unit, -1));
    },
  },
  {
    pattern: new RegExp(`\\b(last|previous)\\s+(${FULL_MONTH_EXCEPT_MAY}|may)\\b`, 'gi'),
    resolve: (m, now) => mostRecentMonth(now, monthNumber(m[2]), true),
  },
  {
    pattern: new RegExp(`(?<=\\b(?:${MONTH_PREPOSITION})\\s+)(may)\\b`, 'gi'),
    resolve: (m, now) => mostRecentMonth(now, monthNumber(m[1]), false),
    undated: 'year',
  },
  {
    pattern: new RegExp(`\\b(${FULL_MONTH_EXCEPT_MAY})\\b`, 'gi'),
    resolve: (m, now) => mostRecentMonth(now, monthNumber(m[1]), false),
    undated: 'year',
  },
  {
    pattern: new RegExp(`\\b(last|previous)\\s+(${WEEKDAYS.join('|')})\\b`, 'gi'),
    resolve: (m, now) => mostRecentWeekday(now, WEEKDAYS.indexOf(m[2].toLowerCase()), true),
  },
  {
    pattern: new RegExp(`\\b(${WEEKDAYS.join('|')})\\b`, 'gi'),
    resolve: (m, now) => mostRecentWeekday(now, WEEKDAYS.indexOf(m[1].toLowerCase()), false),
    undated: 'week',
  },
];

/** The range the query is about, or null when it names no time. */
export function parseTemporalQuery(query: string, now: Date): TemporalRange | null {
  const all = nonOverlapping(findAll(query, now));
  const precise = all.filter((item) => !item.vague);
  const found = precise.length > 0 ? precise : all;
  if (found.length === 0) return null;
  const spans = found.map((item) => (isAfterSince(query, item.index) ? sinceSpan(item.span, now) : item.span));
  // Compared with memories' times, which stay within the storable years.
  return {
    start: clampInstant(new Date(Math.min(...spans.map((span) => span.start.getTime())))),
    end: clampInstant(new Date(Math.max(...spans.map((span) => span.end.getTime())))),
    expressions: found.map((item) => (isAfterSince(query, item.index) ? `since ${item.text}` : item.text)),
  };
}

function findAll(query: string, now: Date): Found[] {
  const found: Found[] = [];
  const future = speaksOfTheFuture(query);
  MATCHERS.forEach((matcher) => {
    matcher.pattern.lastIndex = 0;
    for (let match = matcher.pattern.exec(query); match; match = matcher.pattern.exec(query)) {
      // "since" looks back whatever the tense.
      const ahead = future && !isAfterSince(query, match.index);
      let span = matcher.resolve(match, now, ahead);
      if (span && ahead && matcher.undated && span.end.getTime() <= now.getTime())
        span = { start: shifted(span.start, matcher.undated, 1), end: shifted(span.end, matcher.undated, 1) };
      // Impossible dates (2024-02-31) are not times the user meant; skip rather than guess.
      if (span)
        found.push({ index: match.index, length: match[0].length, text: match[0], span, ...(matcher.vague && { vague: true as const }) });
    }
  });
  return found;
}

/** The longest phrase wins where phrases overlap ("5 March 2024" over "March 2024" and "5 March"). */
function nonOverlapping(found: Found[]): Found[] {
  const byPreference = [...found].sort((a, b) => b.length - a.length || a.index - b.index);
  const chosen: Found[] = [];
  for (const candidate of byPreference) {
    const overlaps = chosen.some(
      (taken) => candidate.index < taken.index + taken.length && taken.index < candidate.index + candidate.length,
    );
    if (!overlaps) chosen.push(candidate);
  }
  return chosen.sort((a, b) => a.index - b.index);
}

function isAfterSince(query: string, index: number): boolean {
  return /\bsince\s+$/i.test(query.slice(0, index));
}

function sinceSpan(span: Span, now: Date): Span {
  return { start: span.start, end: now.getTime() > span.start.getTime() ? now : span.end };
}

function monthNumber(name: string): number {
  const lower = name.toLowerCase();
  return MONTH_WORDS.findIndex((names) => names.includes(lower)) + 1;
}

/** Month and day may overflow or underflow (month 0 is December of the year before). */
function utc(year: number, month: number, day = 1): Date {
  // Not Date.UTC, which reads years 0 to 99 as 1900 to 1999: "last week" asked in year 50 is in year 50.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}

// A year a question names; no one asks about the first millennium by number.
const isPlausibleYear = (year: number) => year >= 1000 && year <= 2999;

function calendarDay(year: number, month: number, day: number): Span | null {
  if (!isPlausibleYear(year) || month < 1 || month > 12 || day < 1) return null;
  const start = utc(year, month, day);
  if (start.getUTCMonth() !== month - 1) return null;
  return { start, end: new Date(start.getTime() + DAY_MS) };
}

function calendarMonth(year: number, month: number): Span | null {
  if (!isPlausibleYear(year) || month < 1 || month > 12) return null;
  return { start: utc(year, month), end: utc(year, month + 1) };
}

function calendarYear(year: number): Span | null {
  if (!isPlausibleYear(year)) return null;
  return { start: utc(year, 1), end: utc(year + 1, 1) };
}

function yearSpan(first: number, last: number): Span | null {
  if (!isPlausibleYear(first) || !isPlausibleYear(last) || last < first) return null;
  return { start: utc(first, 1), end: utc(last + 1, 1) };
}

function startOfDay(date: Date): Date {
  return utc(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

/** `now` moved back by `count` units, clamping the day of month ("a month before 31 March" is 28/29 February). */
function minus(now: Date, unit: Unit, count: number): Date {
  if (unit === 'day') return new Date(now.getTime() - count * DAY_MS);
  if (unit === 'week') return new Date(now.getTime() - count * 7 * DAY_MS);
  const months = unit === 'month' ? count : count * 12;
  const firstOfTarget = utc(now.getUTCFullYear(), now.getUTCMonth() + 1 - months);
  const daysInTarget = utc(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 2, 0).getUTCDate();
  const day = Math.min(now.getUTCDate(), daysInTarget);
  return new Date(firstOfTarget.getTime() + (day - 1) * DAY_MS + (now.getTime() - startOfDay(now).getTime()));
}

function unitContaining(unit: Unit, moment: Date): Span {
  switch (unit) {
    case 'day':
      return daysFrom(startOfDay(moment), 0, 1);
    case 'week':
      return isoWeek(moment, 0);
    case 'month':
      return calendarMonth(moment.getUTCFullYear(), moment.getUTCMonth() + 1)!;
    case 'year':
      return { start: utc(moment.getUTCFullYear(), 1), end: utc(moment.getUTCFullYear() + 1, 1) };
  }
}

function rollingWindow(now: Date, unit: Unit, count: number): Span {
  return { start: minus(now, unit, count), end: now };
}

function mostRecentMonth(now: Date, month: number, excludeCurrent: boolean): Span {
  const currentMonth = now.getUTCMonth() + 1;
  const thisYears = month < currentMonth || (month === currentMonth && !excludeCurrent);
  return calendarMonth(now.getUTCFullYear() - (thisYears ? 0 : 1), month)!;
}

function mostRecentDayOfYear(now: Date, month: number, day: number): Span | null {
  const thisYear = calendarDay(now.getUTCFullYear(), month, day);
  if (thisYear && thisYear.start.getTime() <= now.getTime()) return thisYear;
  return calendarDay(now.getUTCFullYear() - 1, month, day);
}

/** `weekday` counts from Monday = 0. */
function mostRecentWeekday(now: Date, weekday: number, excludeToday: boolean): Span {
  const today = startOfDay(now);
  const todayIndex = (today.getUTCDay() + 6) % 7;
  let back = (todayIndex - weekday + 7) % 7;
  if (back === 0 && excludeToday) back = 7;
  return daysFrom(today, -back, 1);
}
