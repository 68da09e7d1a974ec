/**
 * Dates written as numbers ("3/5/2024", "2024-03"), parts of a month or a year, and decades
 * ("mid-March", "early 2024", "the end of 2023", "in the 1990s", "the late 90s"). chrono reads
 * only some of them, and a question read "the end of 2023" as the whole year. One place for what
 * they mean, for a retained sentence (src/retain/time-expressions.ts) and a question
 * (src/recall/temporal-query.ts). A month's early part is its first ten days, its middle the next
 * ten, its late part the rest; a year's early part is January to April, its middle May to August,
 * its late part September to December; a decade's early years are its first four, its middle the
 * next three, its late years the last three. "The 1800s" and "the 1900s" are centuries, as they
 * are in speech; "the 2000s" is the decade.
 */
import { occurrence } from './annual.js';
import { MONTH_NAMES, PHRASE_YEAR, type TimePhrase, type TimeSpan, utcDay } from './calendar.js';

type Part = 'early' | 'mid' | 'late';

const PART_WORDS: Record<string, Part> = {
  early: 'early',
  beginning: 'early',
  start: 'early',
  mid: 'mid',
  middle: 'mid',
  late: 'late',
  end: 'late',
};

function partOfYear(year: number, part: Part): TimeSpan {
  const firstMonth = { early: 1, mid: 5, late: 9 }[part];
  return { start: utcDay(year, firstMonth, 1), end: utcDay(year, firstMonth + 4, 1) };
}

/** A decade, or a century where the words say "the 1800s" or "the 1900s" (tenths scaled). */
function partOfDecade(first: number, part: Part | null): TimeSpan {
  const years = first % 100 === 0 && first < 2000 ? 100 : 10;
  const [from, to] = part === null ? [0, 10] : { early: [0, 4], mid: [4, 7], late: [7, 10] }[part];
  return { start: utcDay(first + (from * years) / 10, 1, 1), end: utcDay(first + (to * years) / 10, 1, 1) };
}

/** A month's early part is its first ten days, its middle the next ten, its late part the rest. */
function partOfMonth(year: number, month: number, part: Part): TimeSpan {
  const [from, to] = { early: [1, 11], mid: [11, 21], late: [21, 32] }[part];
  return { start: utcDay(year, month, from), end: part === 'late' ? utcDay(year, month + 1, 1) : utcDay(year, month, to) };
}

/** "the 90s": the last decade ending in that digit that has begun by `now`. */
function decadeOfTwoDigits(tens: number, now: Date): number {
  const century = Math.floor(now.getUTCFullYear() / 100) * 100;
  return century + tens * 10 <= now.getUTCFullYear() ? century + tens * 10 : century - 100 + tens * 10;
}

/**
 * "the 14th" without a month: the last month by `now` whose 14th has begun, or in words about the
 * future the first whose 14th has not ended; a month without that day ("the 31st" in April) is
 * passed over.
 */
function dayOfAMonth(day: number, now: Date, future: boolean): TimeSpan | null {
  for (let step = 0; step <= 12; step += 1) {
    const month = now.getUTCMonth() + 1 + (future ? step : -step);
    const start = utcDay(now.getUTCFullYear(), month, day);
    if (start.getUTCDate() !== day) continue;
    const span = { start, end: utcDay(now.getUTCFullYear(), month, day + 1) };
    if (future ? span.end.getTime() > now.getTime() : span.start.getTime() <= now.getTime()) return span;
  }
  return null;
}

/** The phrases, and what each means at `now`. */
export const YEAR_PART_PHRASES: TimePhrase[] = [
  {
    // "on the 14th", "by the 1st": a day of the month the words leave to the reader. A month after
    // it ("the 14th of May") is chrono's date and the question parser's.
    unit: 'day',
    source: `\\b(?:on|by|until|till|before|after)\\s+the\\s+(\\d{1,2})(?:st|nd|rd|th)\\b(?!\\s+(?:of\\s+)?(?:${MONTH_NAMES.join('|')})\\b)`,
    resolve: (match, now, future) => {
      const day = Number(match[1]);
      return day >= 1 && day <= 31 ? dayOfAMonth(day, now, future) : null;
    },
  },
  {
    // "mid-March", "early May 2024", "the end of May": a third of the month; without a year, the
    // last such part that has begun, or in words about the future the next that has not ended.
    unit: 'day',
    source: `\\b(?:(early|mid|late)[\\s-]+|(?:the\\s+)?(beginning|start|middle|end)\\s+of\\s+)(${MONTH_NAMES.join('|')})\\b(?:,?\\s+${PHRASE_YEAR}\\b)?`,
    resolve: (match, now, future) => {
      const part = PART_WORDS[(match[1] ?? match[2]).toLowerCase()];
      const month = MONTH_NAMES.indexOf(match[3].toLowerCase()) + 1;
      if (match[4]) return partOfMonth(Number(match[4]), month, part);
      return occurrence((year) => partOfMonth(year, month, part), future ? 'next' : 'begun', now);
    },
  },
  {
    // "3/5/2024" is 5 March, as chrono reads it (month first, unless the first number is past 12);
    // "5.3.2024" is 5 March too: dots part the day first, where chrono put the month first. A
    // two-digit year ("3/5/24") is this century's below 50, the last one's from 50, as chrono
    // takes it; with slashes only, since "4.2.19" is as likely a version as a date.
    unit: 'day',
    source: '\\b(\\d{1,2})(?:([/.])(\\d{1,2})\\2([12]\\d{3})|(/)(\\d{1,2})/(\\d{2}))\\b(?![/.]\\d)',
    resolve: (match) => {
      const [first, second] = [Number(match[1]), Number(match[3] ?? match[6])];
      const [month, day] = match[2] === '.' || first > 12 ? [second, first] : [first, second];
      const year = match[4] ? Number(match[4]) : Number(match[7]) + (Number(match[7]) < 50 ? 2000 : 1900);
      const start = utcDay(year, month, day);
      // 31/4/2024 rolls into May: no date at all.
      if (month < 1 || month > 12 || day < 1 || start.getUTCDate() !== day) return null;
      return { start, end: utcDay(year, month, day + 1) };
    },
  },
  {
    // "2024-03": a month, where a year alone took "in 2024" and left the month
    unit: 'month',
    source: '\\b([12]\\d{3})-(0[1-9]|1[0-2])\\b(?!-\\d)',
    resolve: (match) => ({ start: utcDay(Number(match[1]), Number(match[2]), 1), end: utcDay(Number(match[1]), Number(match[2]) + 1, 1) }),
  },
  {
    // "early 2024", "mid-2023", "the end of 2022"
    source: `\\b(?:(early|mid|late)[\\s-]+|(?:the\\s+)?(beginning|start|middle|end)\\s+of\\s+)${PHRASE_YEAR}\\b`,
    unit: 'month',
    resolve: (match) => partOfYear(Number(match[3]), PART_WORDS[(match[1] ?? match[2]).toLowerCase()]),
  },
  {
    // "around 2015", "circa 2010": a year either side, as the words say it is not exact. Not a
    // number of things ("around 2000 people").
    unit: 'year',
    source: `\\b(?:around|circa|ca\\.|c\\.)\\s*${PHRASE_YEAR}\\b(?![\\s-]+(?:people|persons|users|members|employees|students|visitors|guests|copies|units|words|pages|times|items|euros|dollars|pounds|km|miles|metres|meters|feet|of)\\b)`,
    resolve: (match) => ({ start: utcDay(Number(match[1]) - 1, 1, 1), end: utcDay(Number(match[1]) + 2, 1, 1) }),
  },
  {
    // "the 1990s", "the early 2000s", "the late '90s": a decade needs "the", so that "in her 30s" is no time.
    source: `\\bthe\\s+(?:(early|mid|late)[\\s-]+)?(?:([12]\\d{2})0|['\\u2019]?(\\d)0)['\\u2019]?s\\b`,
    unit: 'year',
    resolve: (match, now) => {
      const first = match[2] !== undefined ? Number(match[2]) * 10 : decadeOfTwoDigits(Number(match[3]), now);
      return partOfDecade(first, match[1] ? PART_WORDS[match[1].toLowerCase()] : null);
    },
  },
];
