/**
 * The windows Hindsight's stats routes take (`period` of `…/audit-logs/stats` and
 * `…/llm-requests/stats`), in one place so both routes accept and mean the same ones. How each
 * route buckets its window (by hour or by day) is its own, as Hindsight's is.
 */
export const STATS_PERIODS = ['1d', '7d', '30d'] as const;
export type StatsPeriod = (typeof STATS_PERIODS)[number];

const PERIOD_DAYS: Record<StatsPeriod, number> = { '1d': 1, '7d': 7, '30d': 30 };

/** Where the window of `period` that ends at `now` begins. */
export function statsPeriodStart(period: StatsPeriod, now: Date): Date {
  return new Date(now.getTime() - PERIOD_DAYS[period] * 86_400_000);
}
