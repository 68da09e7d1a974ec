import type { Sql } from '../../storage/memory-database.js';
import type { TemporalRange } from '../temporal-query.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/**
 * When a memory happened: its [occurred_start, occurred_end] when retain could date the event
 * (an open end, or one before the start, is a moment), otherwise the moment it was mentioned,
 * which is the best evidence left.
 */
const WHEN_START = 'coalesce(m.occurred_start, m.mentioned_at)';
const WHEN_END = 'CASE WHEN m.occurred_start IS NULL THEN m.mentioned_at ELSE greatest(m.occurred_start, m.occurred_end) END';
/**
 * The middle of that time, as a UTC `timestamp`: `timestamptz + interval` depends on the
 * session's time zone, so PostgreSQL refuses to index it, while the same sum in UTC wall-clock
 * time is immutable. Migration `1764800000000-temporal-midpoint-index.ts` indexes exactly this
 * expression with its bank, and PostgreSQL uses an expression index only for the very expression
 * it was built on: it must stay as the migration wrote it, on the table itself. The EXPLAIN test in
 * `test/recall/temporal-arm.spec.ts` fails if the two drift apart.
 */
const WHEN_MIDDLE = `((${WHEN_START}) AT TIME ZONE 'UTC' + (${WHEN_END} - ${WHEN_START}) / 2)`;
/** A memory that lasts: only such a memory can overlap a range whose middle it does not fall in. */
const LASTS = 'm.occurred_start IS NOT NULL AND m.occurred_end > m.occurred_start';

/**
 * The arm's statements: memories whose time overlaps the query's range, closest to the range's
 * centre first (by the middle of their own time), so that "in March" prefers mid-March events
 * over ones that merely touch the 1st. Exported so that the index test explains what recall runs.
 *
 * The nearest are found by walking the midpoint index outwards from the centre, one walk each
 * way, each stopping after `limit` visible memories: the work is bounded by the limit, not by how
 * many memories the range holds (a month of a busy bank is thousands). A memory whose middle is in
 * the range overlaps it. One whose middle is outside can overlap it only by lasting past the edge,
 * and is then farther from the centre than every memory whose middle is inside, so `spans` is
 * only asked for when the walks found fewer than `limit`; it reads only memories that last.
 */
export function temporalArmQuery(
  scope: RecallScope,
  range: TemporalRange,
  limit: number,
): { nearest: { text: string; values: unknown[] }; spans: (exclude: string[]) => { text: string; values: unknown[] } } {
  const centreOf = (params: SqlParams) =>
    `(${params.add(new Date((range.start.getTime() + range.end.getTime()) / 2))}::timestamptz AT TIME ZONE 'UTC')`;
  const distance = (centre: string) => `abs(extract(epoch FROM ${WHEN_MIDDLE} - ${centre}))::float8 / 86400`;

  const params = new SqlParams();
  const centre = centreOf(params);
  const start = `(${params.add(range.start)}::timestamptz AT TIME ZONE 'UTC')`;
  const end = `(${params.add(range.end)}::timestamptz AT TIME ZONE 'UTC')`;
  const visible = visibleMemories('m', scope, params);
  const take = params.add(limit);
  const walk = (bounds: string, direction: 'ASC' | 'DESC') => `(
        SELECT m.id, m.mentioned_at, ${distance(centre)} AS distance_days
          FROM memory_units m
         WHERE ${visible} AND ${bounds}
         ORDER BY ${WHEN_MIDDLE} ${direction}, m.mentioned_at DESC, m.id
         LIMIT ${take})`;
  const nearest = {
    text: `SELECT id, mentioned_at, distance_days FROM (
        ${walk(`${WHEN_MIDDLE} >= ${centre} AND ${WHEN_MIDDLE} < ${end}`, 'ASC')}
        UNION ALL
        ${walk(`${WHEN_MIDDLE} < ${centre} AND ${WHEN_MIDDLE} >= ${start}`, 'DESC')}
      ) AS walked
      ORDER BY distance_days, mentioned_at DESC, id
      LIMIT ${take}`,
    values: params.values,
  };

  const spans = (exclude: string[]) => {
    const spanParams = new SqlParams();
    const spanCentre = centreOf(spanParams);
    const text = `SELECT m.id, m.mentioned_at, ${distance(spanCentre)} AS distance_days
         FROM memory_units m
        WHERE ${visibleMemories('m', scope, spanParams)} AND ${LASTS}
          AND ${WHEN_START} < ${spanParams.add(range.end)}::timestamptz AND ${WHEN_END} >= ${spanParams.add(range.start)}::timestamptz
          AND m.id <> ALL(${spanParams.add(exclude)}::uuid[])
        ORDER BY distance_days, m.mentioned_at DESC, m.id
        LIMIT ${spanParams.add(limit - exclude.length)}`;
    return { text, values: spanParams.values };
  };
  return { nearest, spans };
}

export async function temporalArm(sql: Sql, scope: RecallScope, range: TemporalRange | null, limit: number): Promise<ArmCandidate[]> {
  if (!range || limit <= 0) return [];
  const { nearest, spans } = temporalArmQuery(scope, range, limit);
  type Row = { id: string; mentioned_at: Date; distance_days: number };
  let rows = await sql.queryPrepared<Row>(nearest.text, nearest.values);
  if (rows.length < limit) {
    const lasting = spans(rows.map((row) => row.id));
    // The statements' own order, across both: nearer first, then the later mention, then the id.
    rows = [...rows, ...(await sql.queryPrepared<Row>(lasting.text, lasting.values))].sort(
      (a, b) =>
        Number(a.distance_days) - Number(b.distance_days) ||
        new Date(b.mentioned_at).getTime() - new Date(a.mentioned_at).getTime() ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }
  // Closeness in (0, 1]: 1 at the centre, 0.5 a day away.
  return rows.map((row) => ({ id: row.id, score: 1 / (1 + Number(row.distance_days)) }));
}
