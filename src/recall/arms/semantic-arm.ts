import type { Sql } from '../../storage/memory-database.js';
import type { VectorBackend } from '../../storage/vector-backend.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/**
 * Nearest memories to the query embedding by cosine distance: the HNSW index on pgvector, an
 * exact scan on real[]. The embedding is computed by the caller before the connection is taken.
 *
 * Must run inside a transaction: the pgvector settings are `SET LOCAL` so that they end with it
 * and never leak to the next user of the pooled connection.
 */
export async function semanticArm(
  sql: Sql,
  vectors: VectorBackend,
  scope: RecallScope,
  queryVector: number[],
  limit: number,
): Promise<ArmCandidate[]> {
  if (vectors.kind === 'pgvector') {
    // HNSW filters after the graph walk: with the default ef_search (40) and another bank's or
    // type's rows among the nearest, it would return fewer than `limit` rows. Iterative scans
    // (pgvector 0.8) keep walking until enough rows pass the filter, in exact distance order.
    await sql.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(Math.min(1000, Math.max(40, limit)))]);
    await sql.query(`SELECT set_config('hnsw.iterative_scan', 'strict_order', true)`);
  }
  const params = new SqlParams();
  const vector = params.add(vectors.serialize(queryVector));
  const rows = await sql.query<{ id: string; distance: number }>(
    `SELECT m.id, ${vectors.distance('m', vector)} AS distance
       FROM memory_units m
      WHERE ${visibleMemories('m', scope, params)} AND m.embedding IS NOT NULL
      ORDER BY distance
      LIMIT ${params.add(limit)}`,
    params.values,
  );
  return rows.map((row) => ({ id: row.id, score: 1 - Number(row.distance) }));
}
