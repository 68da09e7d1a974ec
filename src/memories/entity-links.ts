import type { Sql } from '../storage/memory-database.js';

/**
 * Deletes the given entities that no memory links to any more and recounts the others, after
 * retain, document deletion and memory edits. The rows are locked in canonical-name order (the lock order of every writer of
 * entities) before their links are counted, so a concurrent writer linking one of them either
 * commits first and is counted, or waits.
 */
export async function reclaimOrphanEntities(sql: Sql, entityIds: string[]): Promise<void> {
  if (entityIds.length === 0) return;
  await sql.query(`SELECT id FROM entities WHERE id = ANY($1::uuid[]) ORDER BY canonical_name FOR UPDATE`, [entityIds]);
  await sql.query(
    `DELETE FROM entities e WHERE e.id = ANY($1::uuid[])
        AND NOT EXISTS (SELECT 1 FROM unit_entities ue WHERE ue.entity_id = e.id)`,
    [entityIds],
  );
  await sql.query(
    `UPDATE entities e SET mention_count = (SELECT count(*) FROM unit_entities ue WHERE ue.entity_id = e.id)
      WHERE e.id = ANY($1::uuid[])`,
    [entityIds],
  );
}
