import type { Sql } from '../storage/memory-database.js';

/**
 * The SQL of per-memory maintenance and of the observation reads that go with it: which scopes
 * a bank's observations live in, what an observation was built from, and clearing what was
 * derived from one memory.
 */

/** Live observations per exact tag set, most populous first. */
export async function countObservationsByTags(sql: Sql, bankId: string): Promise<Array<{ tags: string[]; count: string }>> {
  return sql.query<{ tags: string[]; count: string }>(
    `SELECT tags, count(*) AS count FROM memory_units
      WHERE bank_id = $1 AND fact_type = 'observation' AND state = 'valid'
      GROUP BY tags`,
    [bankId],
  );
}

/** The memory's type, with its row locked: the first lock of a maintenance transaction after the bank. */
export async function lockMemoryType(sql: Sql, bankId: string, memoryId: string): Promise<string | undefined> {
  const [row] = await sql.query<{ fact_type: string }>(`SELECT fact_type FROM memory_units WHERE bank_id = $1 AND id = $2 FOR UPDATE`, [
    bankId,
    memoryId,
  ]);
  return row?.fact_type;
}

/**
 * Deletes every observation built on the memory, live or not, and returns the sources those
 * observations had (the memory included), so the caller can queue them again. The other sources
 * are locked in id order before the observations, the lock order every writer shares.
 */
export async function deleteObservationsBuiltOn(
  sql: Sql,
  bankId: string,
  memoryId: string,
): Promise<{ deleted: number; sources: string[] }> {
  const observations = await sql.query<{ id: string; source_memory_ids: string[] }>(
    `SELECT id, source_memory_ids::text[] AS source_memory_ids FROM memory_units
      WHERE bank_id = $1 AND fact_type = 'observation' AND source_memory_ids && ARRAY[$2::uuid]
      ORDER BY id`,
    [bankId, memoryId],
  );
  if (observations.length === 0) return { deleted: 0, sources: [memoryId] };
  const others = [...new Set(observations.flatMap((row) => row.source_memory_ids))].filter((id) => id !== memoryId).sort();
  if (others.length) {
    await sql.query(`SELECT id FROM memory_units WHERE bank_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`, [bankId, others]);
  }
  const { affected } = await sql.execute(`DELETE FROM memory_units WHERE bank_id = $1 AND id = ANY($2::uuid[])`, [
    bankId,
    observations.map((row) => row.id),
  ]);
  return { deleted: affected, sources: [memoryId, ...others] };
}

export interface ObservationRow {
  id: string;
  fact_type: string;
  text: string;
  tags: string[];
  state: string;
  source_memory_ids: string[] | null;
  proof_count: number | null;
  created_at: Date;
  updated_at: Date;
  invalidated_at: Date | null;
  invalidation_reason: string | null;
}

export async function findObservation(sql: Sql, bankId: string, memoryId: string): Promise<ObservationRow | undefined> {
  const [row] = await sql.query<ObservationRow>(
    `SELECT id, fact_type, text, tags, state, source_memory_ids::text[] AS source_memory_ids, proof_count,
            created_at, updated_at, invalidated_at, invalidation_reason
       FROM memory_units WHERE bank_id = $1 AND id = $2`,
    [bankId, memoryId],
  );
  return row;
}

export interface SourceFactRow {
  id: string;
  text: string;
  fact_type: string;
  context: string | null;
  occurred_start: Date | null;
  occurred_end: Date | null;
  mentioned_at: Date | null;
}

/** The source memories that still exist, oldest first; a deleted source simply is not there. */
export async function sourceFacts(sql: Sql, bankId: string, ids: string[]): Promise<SourceFactRow[]> {
  if (ids.length === 0) return [];
  return sql.query<SourceFactRow>(
    `SELECT id, text, fact_type, context, occurred_start, occurred_end, mentioned_at FROM memory_units
      WHERE bank_id = $1 AND id = ANY($2::uuid[]) ORDER BY created_at, id`,
    [bankId, ids],
  );
}
