import type { Sql } from '../../storage/memory-database.js';
import type { TemporalRange } from '../temporal-query.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/**
 * When a memory happened: its [occurred_start, occurred_end] when retain could date the event
 * (an open end, or one before the start, is a moment), otherwise the moment it was mentioned,
 * which is the best evidence left.
 *
 * Each bound is indexed with its bank (migration `1764600000000-temporal-index.ts`), and
 * PostgreSQL uses an expression index only for the very expression it was built on: these two
 * must stay exactly as the migration wrote them, on the table itself (not a subquery's column).
 * The EXPLAIN test in `test/recall/temporal-arm.spec.ts` fails if they drift apart.
 */
const WHEN_START = 'coalesce(m.occurred_start, m.mentioned_at)';
const WHEN_END = 'CASE WHEN m.occurred_start IS NULL THEN m.mentioned_at ELSE greatest(m.occurred_start, m.occurred_end) END';

/**
 * The arm's statement: memories whose time overlaps the query's range, closest to the range's
 * centre first, so that "in March" prefers mid-March events over ones that merely touch the 1st.
 * Exported so that the index test explains the statement recall runs.
 */
export function temporalArmQuery(scope: RecallScope, range: TemporalRange, limit: number): { text: string; values: unknown[] } {
  const params = new SqlParams();
  const start = params.add(range.start);
  const end = params.add(range.end);
  const centre = params.add(new Date((range.start.getTime() + range.end.getTime()) / 2));
  const text = `SELECT m.id,
            abs(extract(epoch FROM (${WHEN_START} + (${WHEN_END} - ${WHEN_START}) / 2) - ${centre}::timestamptz))::float8 / 86400
              AS distance_days
       FROM memory_units m
      WHERE ${visibleMemories('m', scope, params)}
        AND ${WHEN_START} < ${end}::timestamptz AND ${WHEN_END} >= ${start}::timestamptz
      ORDER BY distance_days, m.mentioned_at DESC, m.id
      LIMIT ${params.add(limit)}`;
  return { text, values: params.values };
}

export async function temporalArm(sql: Sql, scope: RecallScope, range: TemporalRange | null, limit: number): Promise<ArmCandidate[]> {
  if (!range) return [];
  const { text, values } = temporalArmQuery(scope, range, limit);
  const rows = await sql.query<{ id: string; distance_days: number }>(text, values);
  // Closeness in (0, 1]: 1 at the centre, 0.5 a day away.
  return rows.map((row) => ({ id: row.id, score: 1 / (1 + Number(row.distance_days)) }));
}
