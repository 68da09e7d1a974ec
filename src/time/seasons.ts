/**
 * The seasons, as the meteorological quarters of the northern hemisphere: spring is March to May,
 * summer June to August, autumn (fall) September to November, winter December to February, named
 * by the year it begins in ("the winter of 2023" runs to the end of February 2024). One place for
 * what a season is, for a retained sentence (src/retain/time-expressions.ts) and for a question
 * (src/recall/temporal-query.ts), which must agree for the temporal arm to find the fact.
 */
import { occurrence } from './annual.js';
import { PHRASE_YEAR, type TimePhrase, type TimeSpan, utcDay } from './calendar.js';

const SEASON_NAMES = 'spring|summer|autumn|fall|winter';

/**
 * The names that may stand alone after a preposition: "in the fall" is as often an accident as
 * autumn, so "fall" needs a year or "last"/"this" beside it.
 */
const SEASON_NAMES_ALONE = 'spring|summer|autumn|winter';

const FIRST_MONTH: Record<string, number> = { spring: 3, summer: 6, autumn: 9, fall: 9, winter: 12 };

/** The season of that name beginning in `year`. */
export function season(name: string, year: number): TimeSpan {
  const first = FIRST_MONTH[name.toLowerCase()];
  return { start: utcDay(year, first, 1), end: utcDay(year, first + 3, 1) };
}

const named = (name: string) => (year: number) => season(name, year);

/** The phrases that name a season, and what each means at `now`. */
export const SEASON_PHRASES: TimePhrase[] = [
  {
    // "the summer of 2023", "winter 2023" (December 2023 to February 2024)
    unit: 'month',
    source: `\\b(?:the\\s+)?(${SEASON_NAMES})\\s+(?:of\\s+)?${PHRASE_YEAR}\\b`,
    resolve: (match) => season(match[1], Number(match[2])),
  },
  {
    // "last summer": the most recent one that has ended; "this winter": the one under way.
    unit: 'month',
    source: `\\b(last|previous|this)\\s+(${SEASON_NAMES})\\b`,
    resolve: (match, now) => occurrence(named(match[2]), /^this$/i.test(match[1]) ? 'this' : 'last', now),
  },
  {
    // "in the summer": the most recent one that has begun, as for a month alone.
    unit: 'month',
    source: `\\b(?:in|during|over|throughout)\\s+(?:the\\s+)?(${SEASON_NAMES_ALONE})\\b(?!\\s+(?:of\\s+)?\\d)`,
    resolve: (match, now, future) => occurrence(named(match[1]), future ? 'next' : 'begun', now),
  },
];
