/**
 * Holidays whose date is the same wherever English is spoken, or computed the same (Easter, by
 * the Western churches' reckoning). National ones (Thanksgiving, Independence Day, bank holidays)
 * differ by country and are left out rather than guessed. One place for what each means, for a
 * retained sentence (src/retain/time-expressions.ts) and a question (src/recall/temporal-query.ts).
 */
import { type Annual, occurrence } from './annual.js';
import { PHRASE_YEAR, type TimePhrase, daysFrom, utcDay } from './calendar.js';

const APOSTROPHE = "['\u2019]?";

/** Each holiday's names (as regular expression source) and its days in a given year. */
const HOLIDAYS: Array<{ names: string; days: Annual }> = [
  { names: 'christmas\\s+eve', days: (year) => daysFrom(utcDay(year, 12, 24), 0, 1) },
  { names: 'christmas\\s+day', days: (year) => daysFrom(utcDay(year, 12, 25), 0, 1) },
  { names: 'boxing\\s+day', days: (year) => daysFrom(utcDay(year, 12, 26), 0, 1) },
  // Christmas alone is the feast, Christmas Eve to Boxing Day.
  { names: 'christmas|x-?mas', days: (year) => daysFrom(utcDay(year, 12, 24), 0, 3) },
  { names: `new\\s+year${APOSTROPHE}s\\s+eve`, days: (year) => daysFrom(utcDay(year, 12, 31), 0, 1) },
  { names: `new\\s+year${APOSTROPHE}s(?:\\s+day)?`, days: (year) => daysFrom(utcDay(year, 1, 1), 0, 1) },
  { names: `(?:st\\.?\\s+)?valentine${APOSTROPHE}s(?:\\s+day)?`, days: (year) => daysFrom(utcDay(year, 2, 14), 0, 1) },
  { names: `hallowe${APOSTROPHE}en`, days: (year) => daysFrom(utcDay(year, 10, 31), 0, 1) },
  { names: 'good\\s+friday', days: (year) => daysFrom(easterSunday(year), -2, 1) },
  { names: 'easter\\s+sunday', days: (year) => daysFrom(easterSunday(year), 0, 1) },
  { names: 'easter\\s+monday', days: (year) => daysFrom(easterSunday(year), 1, 1) },
  // Easter alone is the weekend, Good Friday to Easter Monday.
  { names: 'easter(?:\\s+weekend)?', days: (year) => daysFrom(easterSunday(year), -2, 4) },
];

/** Easter Sunday of the Gregorian calendar (the anonymous algorithm, also known as Meeus/Jones/Butcher). */
export function easterSunday(year: number): Date {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return utcDay(year, month, day);
}

/** All the names, longest first within each holiday's list, as one alternation. */
const ANY_HOLIDAY = HOLIDAYS.map(({ names }) => `(?:${names})`).join('|');

/**
 * The words before a holiday that make it a time: "at Christmas", "over Easter", "spent
 * Christmas", "on Valentine's Day". A bare name is as often a thing ("a Christmas tree", "the
 * Halloween costume") and is not taken.
 */
const BEFORE = 'at|on|over|for|during|around|since|until|till|before|after|by|through|spen[dt]|spending|celebrat(?:e|ed|ing)';

function holiday(name: string): Annual {
  const found = HOLIDAYS.find(({ names }) => new RegExp(`^(?:${names})$`, 'i').test(name.replace(/\s+/g, ' ')));
  if (!found) throw new Error(`not a holiday: ${name}`);
  return found.days;
}

/** The phrases that name a holiday, and what each means at `now`. */
export const HOLIDAY_PHRASES: TimePhrase[] = [
  {
    // "Christmas 2023", "Easter of 2021", "at Christmas 2023"
    unit: 'day',
    source: `\\b(${ANY_HOLIDAY})\\s+(?:of\\s+)?${PHRASE_YEAR}\\b`,
    resolve: (match) => holiday(match[1])(Number(match[2])),
  },
  {
    // "last Christmas": the most recent one that has ended; "this Easter": the one of this year.
    unit: 'day',
    source: `\\b(last|previous|this)\\s+(${ANY_HOLIDAY})\\b`,
    resolve: (match, now) => occurrence(holiday(match[2]), /^this$/i.test(match[1]) ? 'this' : 'last', now),
  },
  {
    // "at Christmas": the most recent one that has begun, as for a month alone.
    unit: 'day',
    source: `(?<=\\b(?:${BEFORE})\\s+)(${ANY_HOLIDAY})\\b(?!\\s+(?:of\\s+)?\\d)`,
    resolve: (match, now, future) => occurrence(holiday(match[1]), future ? 'next' : 'begun', now),
  },
];
