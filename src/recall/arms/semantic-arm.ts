import type { Sql } from '../../storage/memory-database.js';
import type { VectorBackend } from '../../storage/vector-backend.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/**
 * How the nearest memories are found: `index` walks an HNSW index (the bank's own when it has one,
 * src/storage/bank-vector-indexes.service.ts, or the one every bank shares where banks get none;
 * a large bank whose own index is not built yet is read whole by the same plan), `exact` computes
 * the distance of each of the bank's memories (what `real[]` always does).
 */
export type SemanticSearch = 'index' | 'exact';

/**
 * Nearest memories to the query embedding by cosine distance. The embedding is computed by the
 * caller before the connection is taken.
 *
 * An HNSW index every bank shares filters by bank after walking the graph: for a bank that holds
 * a thousandth of the rows, an iterative scan walks a thousand neighbours per match and gives up
 * at `hnsw.max_scan_tuples`, returning fewer than asked. A small bank is therefore scanned
 * exactly, on the bank's own key (`exact`: a distance expression the index was not built on, so
 * the planner cannot take it); the caller decides by the bank's size
 * (`RecallSettings.exactScanBelow`, docs/ARCHITECTURE.md "Recall at scale"). A large bank that
 * has an index of its own is walked on it by this same statement: its predicate is the bank id
 * this statement binds.
 *
 * The pgvector settings the walk needs are set by the statement itself, local to its own
 * transaction (`hnswSettings`): they never leak to the next user of the pooled connection, and
 * recall needs no transaction of its own for them, which was two round trips and a third for a
 * separate `set_config`.
 */
export async function semanticArm(
  sql: Sql,
  vectors: VectorBackend,
  scope: RecallScope,
  queryVector: number[],
  limit: number,
  search: SemanticSearch = 'index',
): Promise<ArmCandidate[]> {
  const { text, values } = semanticArmQuery(vectors, scope, queryVector, limit, search);
  const rows = await sql.query<{ id: string; distance: number }>(text, values);
  return rows.map((row) => ({ id: row.id, score: 1 - Number(row.distance) }));
}

/** The arm's statement, exported so that a test can explain what recall runs. */
export function semanticArmQuery(
  vectors: VectorBackend,
  scope: RecallScope,
  queryVector: number[],
  limit: number,
  search: SemanticSearch,
): { text: string; values: unknown[] } {
  const params = new SqlParams();
  const vector = params.add(vectors.serialize(queryVector));
  // Embeddings no HNSW index can hold (`real[]`, or too many dimensions) are scanned exactly.
  const walksIndex = vectors.hnswOperand !== null && search === 'index';
  // An exact scan breaks ties by id, as the other arms do, so that equal distances come back in
  // one order whichever plan the statistics of the moment choose; the HNSW walk returns its own
  // order, which a second key would stop the index from giving.
  const distance = walksIndex ? vectors.distance('m', vector) : vectors.exactDistance('m', vector);
  const text = `SELECT m.id, ${distance} AS distance
       FROM memory_units m
      WHERE ${walksIndex ? `${hnswSettings(limit, params)} AND ` : ''}${visibleMemories('m', scope, params)} AND m.embedding IS NOT NULL
      ORDER BY distance${walksIndex ? '' : ', m.id'}
      LIMIT ${params.add(limit)}`;
  return { text, values: params.values };
}

/**
 * A condition that is always true and, on its way, sets what the HNSW walk needs. HNSW filters
 * after the graph walk: with the default `ef_search` (40) and another bank's or type's rows among
 * the nearest, it would return fewer than `limit` rows; iterative scans (pgvector 0.8) keep
 * walking until enough rows pass the filter, in exact distance order.
 *
 * The condition mentions no column, so PostgreSQL evaluates it once, as a one-time filter, before
 * the index scan below it returns its first row, which is when pgvector reads both settings.
 * `set_config(…, true)` ends with the transaction, here the statement's own when none is open.
 */
function hnswSettings(limit: number, params: SqlParams): string {
  const efSearch = params.add(String(Math.min(1000, Math.max(40, limit))));
  return `(SELECT set_config('hnsw.ef_search', ${efSearch}, true) || set_config('hnsw.iterative_scan', 'strict_order', true)) IS NOT NULL`;
}
