/**
 * Times that come back every year under one name (a season, a holiday), and which occurrence a
 * sentence or a question means by it. One place for the readings, so that seasons and holidays,
 * and a retained sentence and a question, resolve them alike.
 */
import type { TimeSpan } from './calendar.js';

/** The occurrence beginning in a given year. */
export type Annual = (year: number) => TimeSpan;

/**
 * The occurrence a phrase without a year means at `now`:
 * - `last` ("last summer", "last Christmas"): the most recent that has ended;
 * - `this` ("this winter"): the one under way, else this year's;
 * - `begun` ("in the summer", "at Christmas"): the most recent that has begun, the current one
 *   included, as for a month alone;
 * - `next` (the same words in a sentence about the future): the first that has not ended.
 */
export type AnnualReading = 'last' | 'this' | 'begun' | 'next';

export function occurrence(annual: Annual, reading: AnnualReading, now: Date): TimeSpan {
  const year = now.getUTCFullYear();
  const at = now.getTime();
  switch (reading) {
    case 'last': {
      const candidate = annual(year);
      return candidate.end.getTime() <= at ? candidate : latestEndedBy(annual, year - 1, at);
    }
    case 'this': {
      const underWay = [annual(year - 1), annual(year)].find((span) => span.start.getTime() <= at && at < span.end.getTime());
      return underWay ?? annual(year);
    }
    case 'begun': {
      const candidate = annual(year);
      return candidate.start.getTime() <= at ? candidate : annual(year - 1);
    }
    case 'next': {
      const candidate = annual(year);
      return candidate.end.getTime() > at ? candidate : annual(year + 1);
    }
  }
}

// A winter that begins in December of `year - 1` may still be under way in February.
function latestEndedBy(annual: Annual, year: number, at: number): TimeSpan {
  const candidate = annual(year);
  return candidate.end.getTime() <= at ? candidate : annual(year - 1);
}
