import type { Sql } from '../storage/memory-database.js';

/**
 * The SQL of observation history: a row per change, written in the transaction of the change, and
 * read back oldest first.
 */

/** What an observation read as before a change, read in the change's transaction before it writes. */
export interface ObservationBefore {
  text: string;
  tags: string[];
  occurred_start: Date | null;
  occurred_end: Date | null;
  mentioned_at: Date | null;
  source_memory_ids: string[] | null;
}

export async function readObservationBefore(sql: Sql, bankId: string, observationId: string): Promise<ObservationBefore | undefined> {
  const [row] = await sql.query<ObservationBefore>(
    `SELECT text, tags, occurred_start, occurred_end, mentioned_at, source_memory_ids::text[] AS source_memory_ids
       FROM memory_units WHERE bank_id = $1 AND id = $2`,
    [bankId, observationId],
  );
  return row;
}

/** Records one change: the observation as it read before, and the sources the change added. */
export async function recordObservationChange(
  sql: Sql,
  bankId: string,
  observationId: string,
  before: ObservationBefore,
  sourcesAfter: string[],
): Promise<void> {
  const had = new Set(before.source_memory_ids ?? []);
  await sql.query(
    `INSERT INTO observation_history
       (bank_id, observation_id, previous_text, previous_tags, previous_occurred_start, previous_occurred_end,
        previous_mentioned_at, new_source_memory_ids)
     VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8::uuid[])`,
    [
      bankId,
      observationId,
      before.text,
      before.tags,
      before.occurred_start,
      before.occurred_end,
      before.mentioned_at,
      sourcesAfter.filter((id) => !had.has(id)),
    ],
  );
}

export interface ObservationChangeRow {
  previous_text: string;
  previous_tags: string[];
  previous_occurred_start: Date | null;
  previous_occurred_end: Date | null;
  previous_mentioned_at: Date | null;
  new_source_memory_ids: string[];
  changed_at: Date;
}

export async function observationChanges(sql: Sql, bankId: string, observationId: string): Promise<ObservationChangeRow[]> {
  return sql.query<ObservationChangeRow>(
    `SELECT previous_text, previous_tags, previous_occurred_start, previous_occurred_end, previous_mentioned_at,
            new_source_memory_ids::text[] AS new_source_memory_ids, changed_at
       FROM observation_history WHERE bank_id = $1 AND observation_id = $2
      ORDER BY changed_at, id`,
    [bankId, observationId],
  );
}
