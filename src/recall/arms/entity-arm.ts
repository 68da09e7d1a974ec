import type { Sql } from '../../storage/memory-database.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/**
 * Both sides reduced to space-separated runs of letters and digits, padded with a space, so that
 * `position(name IN query)` matches whole words only ("ann" is not found in "annual") and
 * multi-word names match as a phrase, whatever punctuation either side uses ("o'brien",
 * "Ann's"). The same SQL expression normalises both sides, so they cannot disagree about what a
 * letter is.
 */
const normalised = (expression: string) => `' ' || btrim(regexp_replace(lower(${expression}), '[^[:alnum:]]+', ' ', 'g')) || ' '`;

/**
 * Memories linked to the entities the query names, most matched entities first, then newest.
 *
 * The names are matched by scanning the bank's entities rather than looking up the query's
 * n-grams: a bank has far fewer entities than memories, and the scan needs no assumption about
 * how the retain pipeline spells a canonical name.
 */
export async function entityArm(sql: Sql, scope: RecallScope, query: string, limit: number): Promise<ArmCandidate[]> {
  // Two statements rather than one: the planner cannot estimate how many entities a
  // `position()` match leaves (it guessed hundreds where there was one) and then scanned every
  // link and memory of the bank; with the ids bound, it walks the entity index instead.
  const named = await sql.query<{ id: string }>(
    `SELECT e.id FROM entities e
      WHERE e.bank_id = $1
        AND ${normalised('e.canonical_name')} <> '  '
        AND position(${normalised('e.canonical_name')} IN ${normalised('$2::text')}) > 0`,
    [scope.bankId, query],
  );
  if (named.length === 0) return [];
  const params = new SqlParams();
  const rows = await sql.query<{ id: string; matched: number }>(
    `SELECT m.id, count(*)::int AS matched
       FROM unit_entities ue
       JOIN memory_units m ON m.id = ue.unit_id
      WHERE ue.entity_id = ANY(${params.add(named.map((row) => row.id))}::uuid[])
        AND ${visibleMemories('m', scope, params)}
      GROUP BY m.id, m.mentioned_at
      ORDER BY matched DESC, m.mentioned_at DESC, m.id
      LIMIT ${params.add(limit)}`,
    params.values,
  );
  return rows.map((row) => ({ id: row.id, score: Number(row.matched) }));
}
