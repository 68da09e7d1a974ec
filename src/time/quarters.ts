/**
 * Quarters and halves of a year, as business talk names them: "Q1 2024", "2023 Q4", "the first
 * quarter of 2024", "last quarter", "in Q3", "H1 2024", "the second half of 2023". Calendar quarters
 * (January to March first). chrono reads "last quarter" as the one day three months back and none
 * of the others; a question read "the first quarter of 2024" as the whole year. One reading for a
 * retained sentence (src/retain/time-expressions.ts) and a question (src/recall/temporal-query.ts).
 */
import { occurrence } from './annual.js';
import { PHRASE_YEAR, type TimePhrase, type TimeSpan, utcDay } from './calendar.js';

function quarter(year: number, index: number): TimeSpan {
  return { start: utcDay(year, index * 3 + 1, 1), end: utcDay(year, index * 3 + 4, 1) };
}

function half(year: number, index: number): TimeSpan {
  return { start: utcDay(year, index * 6 + 1, 1), end: utcDay(year, index * 6 + 7, 1) };
}

const ORDINALS: Record<string, number> = {
  first: 0,
  '1st': 0,
  second: 1,
  '2nd': 1,
  third: 2,
  '3rd': 2,
  fourth: 3,
  '4th': 3,
  last: 3,
  final: 3,
};
const OFFSETS: Record<string, number> = { last: -1, previous: -1, this: 0, next: 1 };

export const QUARTER_PHRASES: TimePhrase[] = [
  {
    // "Q1 2024", "Q4/2023", "2023 Q4", "H1 2024", "2024 H2"
    unit: 'month',
    // A preposition before is part of it, or "in 2023" would be read first and kept.
    source: `(?:\\b(?:in|during|by|since|until)\\s+)?\\b(?:([QH])([1-4])[\\s/-]+${PHRASE_YEAR}|${PHRASE_YEAR}[\\s/-]+([QH])([1-4]))\\b`,
    resolve: (match) => {
      const [letter, index, year] = match[1] ? [match[1], match[2], match[3]] : [match[5], match[6], match[4]];
      if (/h/i.test(letter)) return Number(index) <= 2 ? half(Number(year), Number(index) - 1) : null;
      return quarter(Number(year), Number(index) - 1);
    },
  },
  {
    // "the first quarter of 2024", "the second half of 2023"
    unit: 'month',
    source: `\\b(?:the\\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|last|final)\\s+(quarter|half)\\s+of\\s+${PHRASE_YEAR}\\b`,
    resolve: (match) => {
      const index = ORDINALS[match[1].toLowerCase()];
      if (/half/i.test(match[2])) return half(Number(match[3]), Math.min(index, 1));
      return quarter(Number(match[3]), index);
    },
  },
  {
    // "in Q3": the last that has begun, or in words about the future the next. A preposition
    // before it, or "Q3" would be as often a car.
    unit: 'month',
    source: '\\b(?:in|during|for|by|since|until|over)\\s+(?:the\\s+)?Q([1-4])\\b(?![\\s/-]+\\d)',
    resolve: (match, now, future) => occurrence((year) => quarter(year, Number(match[1]) - 1), future ? 'next' : 'begun', now),
  },
  {
    // "last quarter", "this quarter", "next quarter": calendar quarters from the one under way. "The
    // last quarter of the game" is no time (and not chrono's three months back either).
    unit: 'month',
    source: '\\b(?:(the)\\s+)?(last|previous|this|next)\\s+quarter\\b(\\s+of\\b)?',
    resolve: (match, now) => {
      if (match[1] || match[3]) return null;
      const current = Math.floor(now.getUTCMonth() / 3) + OFFSETS[match[2].toLowerCase()];
      return quarter(now.getUTCFullYear(), current);
    },
  },
];
