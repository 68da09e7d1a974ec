/** Always milliseconds, whatever the size: stages compare at a glance, and a label reads the same on a slow run. */
export function formatMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

/** Scores span cosine similarities near 1 and RRF sums near 0.03: four significant digits read well for both. */
export function formatScore(score: number | undefined | null): string {
  if (score == null) return '';
  return Number.isInteger(score) ? String(score) : score.toPrecision(4);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
