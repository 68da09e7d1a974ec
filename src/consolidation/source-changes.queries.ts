import { type QuerySql, invalidateObservationsBuiltOn, requeueForConsolidation } from './observation-scopes.queries.js';
import type { Sql } from '../storage/memory-database.js';
import { attributeKeysOf, recomputeSupersession } from '../supersession/supersession.queries.js';

/** Why observations built on a deleted memory stop counting. */
export const SOURCE_DELETED_REASON = 'source deleted';
/** Why observations built on a memory whose tags changed stop counting: they belong to its old scope. */
export const SOURCE_RETAGGED_REASON = 'source tags changed';

/**
 * Changes to raw memories that observations were built on. An observation repeats its sources'
 * text under their scope, so when a source goes, or moves to another scope, the observations
 * built on it are invalidated and their other sources are consolidated again without it.
 *
 * Lock order, shared with consolidation and edits: the changed memories (id order), then the
 * other sources of their observations (id order), then the observations.
 */

/** Deletes a document's memories; the caller holds the document row's lock. Returns how many went. */
export async function deleteDocumentMemories(sql: Sql, bankId: string, documentId: string): Promise<number> {
  return deleteDocumentsMemories(sql, bankId, [documentId]);
}

/**
 * Deletes the memories of several documents at once (a retain replacing many); the caller holds
 * the documents' row locks. Their memories are locked together, in id order.
 */
export async function deleteDocumentsMemories(sql: Sql, bankId: string, documentIds: string[]): Promise<number> {
  if (documentIds.length === 0) return 0;
  const memories = await sql.query<{ id: string }>(
    `SELECT id FROM memory_units WHERE bank_id = $1 AND document_id = ANY($2::text[]) ORDER BY id FOR UPDATE`,
    [bankId, documentIds],
  );
  return deleteMemories(
    sql,
    bankId,
    memories.map((row) => row.id),
  );
}

/** Deletes memories the caller has locked, keeping what was derived from them honest. */
export async function deleteMemories(sql: Sql, bankId: string, memoryIds: string[]): Promise<number> {
  if (memoryIds.length === 0) return 0;
  const sources = await invalidateObservationsBuiltOn(sql, bankId, memoryIds, SOURCE_DELETED_REASON);
  const attributeKeys = await attributeKeysOf(sql, memoryIds);
  const { affected } = await sql.execute(`DELETE FROM memory_units WHERE bank_id = $1 AND id = ANY($2::uuid[])`, [bankId, memoryIds]);
  // The foreign key only clears pointers to a deleted memory, which would make its predecessor
  // look current while a newer fact of the line lives on.
  await recomputeSupersession(sql, bankId, attributeKeys);
  const deleted = new Set(memoryIds);
  await requeueForConsolidation(
    sql,
    bankId,
    sources.filter((id) => !deleted.has(id)),
  );
  return affected;
}

/**
 * Gives memories (locked by the caller) a new tag set. Observations built under their old scope
 * are invalidated, and the memories and those observations' other sources queued again.
 * Returns the memories whose tags changed.
 */
export async function retagMemories(sql: QuerySql, bankId: string, memoryIds: string[], tags: string[]): Promise<string[]> {
  if (memoryIds.length === 0) return [];
  const changed = await sql.query<{ id: string }>(
    `WITH changed AS (
       UPDATE memory_units SET tags = $3::text[], updated_at = now()
        WHERE bank_id = $1 AND id = ANY($2::uuid[]) AND fact_type <> 'observation'
          AND NOT (tags @> $3::text[] AND tags <@ $3::text[])
        RETURNING id)
     SELECT id FROM changed ORDER BY id`,
    [bankId, memoryIds, tags],
  );
  const ids = changed.map((row) => row.id);
  if (ids.length === 0) return [];
  const sources = await invalidateObservationsBuiltOn(sql, bankId, ids, SOURCE_RETAGGED_REASON);
  await requeueForConsolidation(sql, bankId, sources);
  // Lines are per tag set, and an LLM pointer across the new boundary would leak between readers.
  await recomputeSupersession(sql, bankId, await attributeKeysOf(sql, ids));
  return ids;
}
