import type { TimePhrase } from './calendar.js';
import { HOLIDAY_PHRASES } from './holidays.js';
import { QUARTER_PHRASES } from './quarters.js';
import { RELATIVE_PHRASES } from './relative.js';
import { SEASON_PHRASES } from './seasons.js';
import { WEEK_PHRASES } from './weeks.js';
import { YEAR_PART_PHRASES } from './years.js';

/**
 * Every time phrase of ours, which chrono reads differently or not at all: weeks and weekends,
 * parts of a year and decades, quarters, seasons, holidays, and times relative to when they were
 * said.
 */
export const TIME_PHRASES: readonly TimePhrase[] = [
  ...WEEK_PHRASES,
  ...YEAR_PART_PHRASES,
  ...QUARTER_PHRASES,
  ...SEASON_PHRASES,
  ...HOLIDAY_PHRASES,
  ...RELATIVE_PHRASES,
];
