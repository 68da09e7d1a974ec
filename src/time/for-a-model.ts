/**
 * Times as a prompt gives them to a model. An instant with its weekday: a model works the weekday
 * out of an ISO date unreliably, and "on Thursday", "this week" or "next Friday" turn on it. A
 * memory's time as the days it spans, so that a month ("in March 2024") does not read as its first
 * day. Fact extraction (src/retain/fact-extraction.ts), reflect and mental models use these.
 */
import { DAY_MS } from './calendar.js';

/** "2026-03-01T10:00:00.000Z (a Sunday)" */
export function instantForModel(at: Date): string {
  return `${at.toISOString()} (a ${at.toLocaleDateString('en-GB', { weekday: 'long', timeZone: 'UTC' })})`;
}

/** "2024-03-12", or "2024-03-01 to 2024-03-31" for a time of more than a day (its end is exclusive). */
export function occurredForModel(start: Date, end: Date | null): string {
  const first = start.toISOString().slice(0, 10);
  if (!end || end.getTime() - start.getTime() <= DAY_MS) return first;
  return `${first} to ${new Date(end.getTime() - 1).toISOString().slice(0, 10)}`;
}
