import type { Sql } from '../../storage/memory-database.js';
import type { TemporalRange } from '../temporal-query.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/**
 * When a memory happened: its [occurred_start, occurred_end] when retain could date the event
 * (an open end is a moment), otherwise the moment it was mentioned, which is the best evidence
 * left. `when_start`/`when_end` are columns of the lateral subquery below.
 */
const WHEN = `
  CROSS JOIN LATERAL (
    SELECT coalesce(m.occurred_start, m.mentioned_at) AS when_start,
           CASE WHEN m.occurred_start IS NULL THEN m.mentioned_at
                ELSE greatest(m.occurred_start, coalesce(m.occurred_end, m.occurred_start)) END AS when_end
  ) AS w`;

/**
 * Memories whose time overlaps the query's range, closest to the range's centre first, so that
 * "in March" prefers mid-March events over ones that merely touch the 1st.
 */
export async function temporalArm(sql: Sql, scope: RecallScope, range: TemporalRange | null, limit: number): Promise<ArmCandidate[]> {
  if (!range) return [];
  const params = new SqlParams();
  const start = params.add(range.start);
  const end = params.add(range.end);
  const centre = params.add(new Date((range.start.getTime() + range.end.getTime()) / 2));
  const rows = await sql.query<{ id: string; distance_days: number }>(
    `SELECT m.id,
            abs(extract(epoch FROM (w.when_start + (w.when_end - w.when_start) / 2) - ${centre}::timestamptz))::float8 / 86400
              AS distance_days
       FROM memory_units m ${WHEN}
      WHERE ${visibleMemories('m', scope, params)}
        AND w.when_start < ${end}::timestamptz AND w.when_end >= ${start}::timestamptz
      ORDER BY distance_days, m.mentioned_at DESC, m.id
      LIMIT ${params.add(limit)}`,
    params.values,
  );
  // Closeness in (0, 1]: 1 at the centre, 0.5 a day away.
  return rows.map((row) => ({ id: row.id, score: 1 / (1 + Number(row.distance_days)) }));
}
