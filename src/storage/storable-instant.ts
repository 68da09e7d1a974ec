import { MemoryErrorCode, MemoryException } from '../memory.exception.js';

/**
 * The instants a memory's times may be: years 1 to 9999 in UTC. Outside them nothing reads or
 * writes them alike. PGlite sends a `Date` as `toISOString()`, whose forms for year 0
 * (`0000-…`) and from year 10000 (`+010000-…`) PostgreSQL refuses; node-postgres writes both
 * in PostgreSQL's own form, and the row then fails on the way back (`10000-01-01` is no date to
 * JavaScript), so one such memory made every recall of its bank fail. Python's `datetime`, which
 * Hindsight and its clients read times with, stops at the same years. Times a caller gives are
 * refused outside them; times derived from text or by the LLM are clamped to them.
 */
export const EARLIEST_INSTANT = new Date('0001-01-01T00:00:00.000Z');
export const LATEST_INSTANT = new Date('9999-12-31T23:59:59.999Z');

export function isStorableInstant(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST_INSTANT.getTime() && time <= LATEST_INSTANT.getTime();
}

/** `date` moved to the nearest storable instant (itself when it is one). */
export function clampInstant(date: Date): Date {
  if (date.getTime() < EARLIEST_INSTANT.getTime()) return EARLIEST_INSTANT;
  if (date.getTime() > LATEST_INSTANT.getTime()) return LATEST_INSTANT;
  return date;
}

/** Phrased to follow a field name, for the edges' messages. */
export const STORABLE_INSTANT_RULE = 'must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z';

/**
 * Throws the domain's invalid-input error (422 over HTTP, naming `field`) for a time outside
 * years 1 to 9999. For services reached without the HTTP edge, which refuses such times itself.
 */
export function assertStorableInstant(value: Date | null | undefined, field: string): void {
  if (!(value instanceof Date) || isStorableInstant(value)) return;
  throw new MemoryException(MemoryErrorCode.InvalidInput, `${field.split('.').at(-1)} ${STORABLE_INSTANT_RULE}`, field);
}
