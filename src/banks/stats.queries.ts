import type { Sql } from '../storage/memory-database.js';

/** The timestamp a memory is counted at; `created_at` is when it was stored. */
export type TimeseriesField = 'created_at' | 'mentioned_at' | 'occurred_start';

/**
 * Memories per fact type and time bucket since `since`. A bucket is named by the epoch second it
 * starts at: minutes, hours and days all start on a multiple of their length since the epoch in
 * UTC, so the buckets are UTC-aligned whatever the session's time zone, and no zone-less
 * timestamp reaches a driver that would read it in local time. An event-time field falls back to
 * `created_at` for a memory without one.
 */
export async function memoriesTimeseries(
  sql: Sql,
  bankId: string,
  field: TimeseriesField,
  stepSeconds: number,
  since: Date,
): Promise<Array<{ bucket: string; fact_type: string; n: string }>> {
  const at = field === 'created_at' ? 'created_at' : `COALESCE(${field}, created_at)`;
  return sql.query<{ bucket: string; fact_type: string; n: string }>(
    `SELECT (floor(extract(epoch FROM ${at}) / $3) * $3)::bigint AS bucket, fact_type, count(*) AS n
       FROM memory_units
      WHERE bank_id = $1 AND ${at} >= $2
      GROUP BY 1, 2`,
    [bankId, since, stepSeconds],
  );
}
