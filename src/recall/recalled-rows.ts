import type { Sql } from '../storage/memory-database.js';
import { SqlParams } from './arms/sql-params.js';
import { RecallScope, groupsPredicate, sourcesVisible, tagPredicate, visibleMemories } from './arms/visible-memories.js';
import type { FactType } from './recall.types.js';

/** A candidate's row, without its embedding (recall never needs the vector back). */
export interface MemoryRow {
  id: string;
  text: string;
  context: string | null;
  fact_type: FactType;
  occurred_start: Date | null;
  occurred_end: Date | null;
  mentioned_at: Date | null;
  document_id: string | null;
  metadata: Record<string, string> | null;
  tags: string[] | null;
  source_memory_ids: string[] | null;
  /** The newer memory that replaced this one (docs/ARCHITECTURE.md, "Supersession"). */
  superseded_by: string | null;
  /** The memory's entities, by canonical name. */
  entities: LinkedEntity[];
}

export interface LinkedEntity {
  unitId: string;
  entityId: string;
  /** As first written ("Alice"): what the API shows, as Hindsight does. */
  name: string;
  /** Lower-cased: what matching compares. */
  canonicalName: string;
}

/** Each linked entity as `[id, name, canonical name]`, in canonical-name order. */
type StoredRow = Omit<MemoryRow, 'entities'> & { linked_entities: Array<[string, string, string]> | null };

/**
 * The rows of the fused candidates with their entities, re-filtered by the scope: the arms and
 * this read are separate statements, and a memory invalidated between them must not be returned.
 * One statement rather than rows and then links: recall reads some 200 candidates at the default
 * budget, and every round trip and sort it saves is time on the connection. The links come as one
 * JSON array per row rather than an array per field: one sort per row instead of three, and the
 * driver parses JSON natively where it parses a text array character by character in JavaScript.
 */
export async function loadCandidateRows(sql: Sql, scope: RecallScope, ids: string[]): Promise<Map<string, MemoryRow>> {
  if (ids.length === 0) return new Map();
  const params = new SqlParams();
  const rows = await sql.query<StoredRow>(
    `SELECT m.id, m.text, m.context, m.fact_type, m.occurred_start, m.occurred_end, m.mentioned_at,
            m.document_id, m.metadata, m.tags, m.source_memory_ids::text[] AS source_memory_ids, m.superseded_by,
            linked.linked_entities
       FROM memory_units m
       LEFT JOIN LATERAL (
         SELECT json_agg(json_build_array(e.id, e.name, e.canonical_name) ORDER BY e.canonical_name) AS linked_entities
           FROM unit_entities ue
           JOIN entities e ON e.bank_id = ue.bank_id AND e.id = ue.entity_id
          WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id
       ) AS linked ON TRUE
      WHERE m.id = ANY(${params.add(ids)}::uuid[]) AND ${visibleMemories('m', scope, params)}`,
    params.values,
  );
  return new Map(
    rows.map(({ linked_entities, ...row }) => [
      row.id,
      {
        ...row,
        occurred_start: asDate(row.occurred_start),
        occurred_end: asDate(row.occurred_end),
        mentioned_at: asDate(row.mentioned_at),
        entities: (linked_entities ?? []).map(([entityId, name, canonicalName]) => ({ unitId: row.id, entityId, name, canonicalName })),
      },
    ]),
  );
}

export interface EntityObservation {
  entityId: string;
  text: string;
  mentionedAt: Date | null;
}

/**
 * Up to `perEntity` live observations linked to each entity, newest first. Observations are
 * filtered by the request's tags like any memory, sources included (tags scope visibility, and an
 * entity must not leak another scope's observations), but not by its fact types: they are asked
 * for separately.
 *
 * The entities are joined from `unnest` rather than matched by `= ANY(…)`: given a few hundred ids
 * as a constant array, the planner estimates each one against the column's most common values,
 * and planning cost more than twice what it does with the join (1.5 against 0.6 ms for 275
 * entities at 100k memories), where the statement itself, on a bank without observations, runs
 * in a few hundredths of a millisecond.
 */
export async function loadEntityObservations(
  sql: Sql,
  scope: RecallScope,
  entityIds: string[],
  perEntity: number,
): Promise<EntityObservation[]> {
  if (entityIds.length === 0 || perEntity <= 0) return [];
  const params = new SqlParams();
  const rows = await sql.query<{ entity_id: string; text: string; mentioned_at: Date | null }>(
    `SELECT entity_id, text, mentioned_at
       FROM (
         SELECT ue.entity_id, m.text, m.mentioned_at,
                row_number() OVER (PARTITION BY ue.entity_id ORDER BY m.mentioned_at DESC, m.id) AS position
           FROM unnest(${params.add(entityIds)}::uuid[]) AS wanted(id)
           JOIN unit_entities ue ON ue.entity_id = wanted.id
           JOIN memory_units m ON m.id = ue.unit_id
          WHERE m.bank_id = ${params.add(scope.bankId)}
            AND m.state = 'valid'
            AND m.fact_type = 'observation'
            AND ${tagPredicate('m.tags', scope.tags, scope.tagsMatch, params)}
            AND ${groupsPredicate('m.tags', scope.tagGroups, params)}
            AND ${sourcesVisible('m', scope.tags, scope.tagsMatch, params, scope.tagGroups)}
       ) AS ranked
      WHERE position <= ${params.add(perEntity)}
      ORDER BY entity_id, position`,
    params.values,
  );
  return rows.map((row) => ({ entityId: row.entity_id, text: row.text, mentionedAt: asDate(row.mentioned_at) }));
}

/** node-postgres and PGlite both parse timestamptz to Date; this guards a driver that does not. */
function asDate(value: Date | string | null): Date | null {
  if (value === null || value instanceof Date) return value;
  return new Date(value);
}
