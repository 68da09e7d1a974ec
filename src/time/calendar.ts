/**
 * What the time phrases of src/time share: a span of time, a phrase that names one, and the
 * calendar arithmetic they need. Every phrase is read by a retained sentence's parser
 * (src/retain/time-expressions.ts) and a question's (src/recall/temporal-query.ts) alike, so that
 * the temporal arm finds a fact by the words it was told in:
 * docs/ARCHITECTURE.md, "Time in a sentence and in a question".
 */

/** A span of time: its first instant and the first instant after it. */
export interface TimeSpan {
  start: Date;
  end: Date;
}

/**
 * A phrase that names a time, and what it means at `now`. Each parser builds its own expression
 * from `source` (its own flags). `unit` is what the words pin down (a season to the month, a
 * holiday to the day). `future` is true where the words speak of the future (src/time/tense.ts),
 * where a bare "in the summer" is the coming one.
 */
export interface TimePhrase {
  source: string;
  unit: 'year' | 'month' | 'day';
  /**
   * `null` where the words name no time after all ("31/4/2024"; "in two years" in words about the
   * past, how long something took): neither parser reads a time there.
   */
  resolve(match: RegExpMatchArray, now: Date, future: boolean): TimeSpan | null;
  /**
   * A vague time ("recently", "a few weeks ago", "coming up"): where the same words also name a
   * precise one ("Anna's upcoming trip in May"), both parsers take the precise one.
   */
  vague?: true;
}

/** The years a phrase may name: those a question's years may be. */
export const PHRASE_YEAR = '([12]\\d{3})';

/** Midnight UTC of a calendar day; a month of 13 or a day past the month's end rolls over. */
export function utcDay(year: number, month: number, day: number): Date {
  // Field by field, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}

/** A count in words or digits, as phrases of time say it ("two weeks ago", "the last 10 days"). */
export const COUNT = `\\d{1,4}|a couple of|couple|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve`;

const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  'a couple of': 2,
  couple: 2,
};

export function countOf(text: string): number {
  const lower = text.toLowerCase().replace(/\s+/g, ' ');
  return NUMBER_WORDS[lower] ?? Number(lower);
}

export const DAY_MS = 86_400_000;

/** Each month's name, then the abbreviations it is written with ("sept", "dec"). */
export const MONTH_WORDS: ReadonlyArray<readonly string[]> = [
  ['january', 'jan'],
  ['february', 'feb'],
  ['march', 'mar'],
  ['april', 'apr'],
  ['may'],
  ['june', 'jun'],
  ['july', 'jul'],
  ['august', 'aug'],
  ['september', 'sept', 'sep'],
  ['october', 'oct'],
  ['november', 'nov'],
  ['december', 'dec'],
];

export const MONTH_NAMES = MONTH_WORDS.map((words) => words[0]);

/** Monday first, as ISO 8601 counts them. */
export const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** `count` days from `offset` days after `first` (UTC days have no daylight-saving hour). */
export function daysFrom(first: Date, offset: number, count: number): TimeSpan {
  const start = new Date(first.getTime() + offset * DAY_MS);
  return { start, end: new Date(start.getTime() + count * DAY_MS) };
}

/** `date` moved by whole years, months, weeks or days; a 29 February moved a year is 1 March. */
export function shifted(date: Date, step: 'year' | 'month' | 'week' | 'day', by: number): Date {
  const moved = new Date(date);
  if (step === 'year') moved.setUTCFullYear(moved.getUTCFullYear() + by);
  else if (step === 'month') moved.setUTCMonth(moved.getUTCMonth() + by);
  else moved.setUTCDate(moved.getUTCDate() + (step === 'week' ? 7 : 1) * by);
  return moved;
}
