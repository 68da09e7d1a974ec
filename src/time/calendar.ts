/** Midnight UTC of a calendar day; a month of 13 or a day past the month's end rolls over. */
export function utcDay(year: number, month: number, day: number): Date {
  // Field by field, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}
