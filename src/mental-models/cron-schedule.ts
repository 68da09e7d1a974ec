/**
 * A standard five-field cron expression (minute hour day-of-month month day-of-week, UTC), or
 * six fields with leading seconds, which are ignored: refreshes are scheduled to the minute.
 * Fields take `*`, numbers, names (`jan`, `mon`), ranges, lists and `/step`s. As in cron, when
 * both day fields are restricted a day matching either one fires.
 */
export class CronSchedule {
  private constructor(
    private readonly minutes: Set<number>,
    private readonly hours: Set<number>,
    private readonly days: Set<number>,
    private readonly months: Set<number>,
    private readonly weekdays: Set<number>,
    private readonly daysRestricted: boolean,
    private readonly weekdaysRestricted: boolean,
  ) {}

  /** Throws an Error naming the field at fault. */
  static parse(expression: string): CronSchedule {
    let fields = expression.trim().split(/\s+/);
    if (fields.length === 6) fields = fields.slice(1);
    if (fields.length !== 5) throw new Error(`a cron expression has 5 fields, got ${fields.length}`);
    const [minute, hour, day, month, weekday] = fields;
    const weekdays = parseField(weekday, 0, 7, WEEKDAY_NAMES, 'day of week');
    if (weekdays.delete(7)) weekdays.add(0);
    return new CronSchedule(
      parseField(minute, 0, 59, {}, 'minute'),
      parseField(hour, 0, 23, {}, 'hour'),
      parseField(day, 1, 31, {}, 'day of month'),
      parseField(month, 1, 12, MONTH_NAMES, 'month'),
      weekdays,
      !isWildcard(day),
      !isWildcard(weekday),
    );
  }

  static isValid(expression: string): boolean {
    try {
      CronSchedule.parse(expression);
      return true;
    } catch {
      return false;
    }
  }

  matches(date: Date): boolean {
    if (!this.minutes.has(date.getUTCMinutes()) || !this.hours.has(date.getUTCHours()) || !this.months.has(date.getUTCMonth() + 1)) {
      return false;
    }
    const dayMatches = this.days.has(date.getUTCDate());
    const weekdayMatches = this.weekdays.has(date.getUTCDay());
    if (this.daysRestricted && this.weekdaysRestricted) return dayMatches || weekdayMatches;
    return dayMatches && weekdayMatches;
  }

  /**
   * Whether the schedule fired in (after, until]. Looks back at most `horizonMs` (31 days), so
   * a model that missed a yearly slot long ago is not refreshed for it.
   */
  firedBetween(after: Date, until: Date, horizonMs = 31 * 24 * 60 * 60_000): boolean {
    const start = Math.max(after.getTime(), until.getTime() - horizonMs);
    let minute = Math.floor(start / 60_000) * 60_000;
    if (minute <= after.getTime()) minute += 60_000;
    for (; minute <= until.getTime(); minute += 60_000) {
      if (this.matches(new Date(minute))) return true;
    }
    return false;
  }
}

const MONTH_NAMES: Record<string, number> = Object.fromEntries(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((name, index) => [name, index + 1]),
);
const WEEKDAY_NAMES: Record<string, number> = Object.fromEntries(
  ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((name, index) => [name, index]),
);

function isWildcard(field: string): boolean {
  return field === '*' || field === '?';
}

function parseField(field: string, min: number, max: number, names: Record<string, number>, what: string): Set<number> {
  const values = new Set<number>();
  const value = (text: string): number => {
    const named = names[text.toLowerCase()];
    const number = named ?? (/^\d+$/.test(text) ? Number(text) : NaN);
    if (!Number.isInteger(number) || number < min || number > max) throw new Error(`invalid ${what} '${text}'`);
    return number;
  };
  for (const part of field.split(',')) {
    const match = /^(\*|\?|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/i.exec(part);
    if (!match) throw new Error(`invalid ${what} '${part}'`);
    const [, range, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new Error(`invalid step in ${what} '${part}'`);
    let from: number;
    let to: number;
    if (range === '*' || range === '?') {
      [from, to] = [min, max];
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [from, to] = [value(a), value(b)];
      if (from > to) throw new Error(`invalid range in ${what} '${part}'`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}
