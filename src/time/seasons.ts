/**
 * The seasons, as the meteorological quarters of the northern hemisphere: spring is March to May,
 * summer June to August, autumn (fall) September to November, winter December to February, named
 * by the year it begins in ("the winter of 2023" runs to the end of February 2024). One place for
 * what a season is, for a retained sentence (src/retain/time-expressions.ts) and for a question
 * (src/recall/temporal-query.ts), which must agree for the temporal arm to find the fact.
 */

const SEASON_NAMES = 'spring|summer|autumn|fall|winter';

/**
 * The names that may stand alone after a preposition: "in the fall" is as often an accident as
 * autumn, so "fall" needs a year or "last"/"this" beside it.
 */
const SEASON_NAMES_ALONE = 'spring|summer|autumn|winter';

const FIRST_MONTH: Record<string, number> = { spring: 3, summer: 6, autumn: 9, fall: 9, winter: 12 };

/** A season's first instant and the first instant after it. */
export interface SeasonSpan {
  start: Date;
  end: Date;
}

/** The season of that name beginning in `year`. */
export function season(name: string, year: number): SeasonSpan {
  const first = FIRST_MONTH[name.toLowerCase()];
  return { start: firstOfMonth(year, first), end: firstOfMonth(year, first + 3) };
}

/**
 * The most recent season of that name that has begun by `now` ("in the summer"); with
 * `excludeCurrent`, the most recent that has also ended ("last summer" asked in July is the one
 * a year before, asked in October the one just gone).
 */
export function mostRecentSeason(name: string, now: Date, excludeCurrent: boolean): SeasonSpan {
  let found = season(name, now.getUTCFullYear());
  if (found.start.getTime() > now.getTime()) found = season(name, now.getUTCFullYear() - 1);
  if (excludeCurrent && now.getTime() < found.end.getTime()) found = season(name, found.start.getUTCFullYear() - 1);
  return found;
}

/** "this winter": the season of `now`'s year, or the winter that began last December in January and February. */
export function currentSeason(name: string, now: Date): SeasonSpan {
  const year = now.getUTCFullYear();
  const winterFromLastYear = FIRST_MONTH[name.toLowerCase()] === 12 && now.getUTCMonth() < 2;
  return season(name, winterFromLastYear ? year - 1 : year);
}

function firstOfMonth(year: number, month: number): Date {
  // Field by field, not Date.UTC, which reads years 0 to 99 as 1900 to 1999; month 13 and later
  // roll into the next year.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, 1);
  return date;
}

/**
 * The phrases that name a season, and what each means at `now`. Each parser builds its own
 * expression from `source` (its own flags), so that a sentence and a question read a season
 * alike. A year is one from 1000 to 2999, as a question's years are.
 */
export const SEASON_PHRASES: Array<{ source: string; resolve: (match: RegExpMatchArray, now: Date) => SeasonSpan }> = [
  {
    // "the summer of 2023", "winter 2023" (December 2023 to February 2024)
    source: `\\b(?:the\\s+)?(${SEASON_NAMES})\\s+(?:of\\s+)?([12]\\d{3})\\b`,
    resolve: (match) => season(match[1], Number(match[2])),
  },
  {
    // "last summer": the most recent one that has ended; "this winter": the one of this year.
    source: `\\b(last|previous|this)\\s+(${SEASON_NAMES})\\b`,
    resolve: (match, now) => (/^this$/i.test(match[1]) ? currentSeason(match[2], now) : mostRecentSeason(match[2], now, true)),
  },
  {
    // "in the summer": the most recent one that has begun, as for a month alone.
    source: `\\b(?:in|during|over|throughout)\\s+(?:the\\s+)?(${SEASON_NAMES_ALONE})\\b(?!\\s+(?:of\\s+)?\\d)`,
    resolve: (match, now) => mostRecentSeason(match[1], now, false),
  },
];
