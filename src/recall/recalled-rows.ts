import type { Sql } from '../storage/memory-database.js';
import { SqlParams } from './arms/sql-params.js';
import { RecallScope, sourcesVisible, tagPredicate, visibleMemories } from './arms/visible-memories.js';
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
}

/**
 * The rows of the fused candidates, re-filtered by the scope: the arms and this read are
 * separate statements, and a memory invalidated between them must not be returned.
 */
export async function loadCandidateRows(sql: Sql, scope: RecallScope, ids: string[]): Promise<Map<string, MemoryRow>> {
  if (ids.length === 0) return new Map();
  const params = new SqlParams();
  const rows = await sql.query<MemoryRow>(
    `SELECT m.id, m.text, m.context, m.fact_type, m.occurred_start, m.occurred_end, m.mentioned_at,
            m.document_id, m.metadata, m.tags, m.source_memory_ids::text[] AS source_memory_ids, m.superseded_by
       FROM memory_units m
      WHERE m.id = ANY(${params.add(ids)}::uuid[]) AND ${visibleMemories('m', scope, params)}`,
    params.values,
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        ...row,
        occurred_start: asDate(row.occurred_start),
        occurred_end: asDate(row.occurred_end),
        mentioned_at: asDate(row.mentioned_at),
      },
    ]),
  );
}

export interface LinkedEntity {
  unitId: string;
  entityId: string;
  canonicalName: string;
}

/** The entities linked to the given memories (returned ones, or candidates for recency), in one query. */
export async function loadLinkedEntities(sql: Sql, unitIds: string[]): Promise<LinkedEntity[]> {
  if (unitIds.length === 0) return [];
  const rows = await sql.query<{ unit_id: string; entity_id: string; canonical_name: string }>(
    `SELECT ue.unit_id, e.id AS entity_id, e.canonical_name
       FROM unit_entities ue
       JOIN entities e ON e.id = ue.entity_id
      WHERE ue.unit_id = ANY($1::uuid[])
      ORDER BY e.canonical_name`,
    [unitIds],
  );
  return rows.map((row) => ({ unitId: row.unit_id, entityId: row.entity_id, canonicalName: row.canonical_name }));
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
           FROM unit_entities ue
           JOIN memory_units m ON m.id = ue.unit_id
          WHERE ue.entity_id = ANY(${params.add(entityIds)}::uuid[])
            AND m.bank_id = ${params.add(scope.bankId)}
            AND m.state = 'valid'
            AND m.fact_type = 'observation'
            AND ${tagPredicate('m.tags', scope.tags, scope.tagsMatch, params)}
            AND ${sourcesVisible('m', scope.tags, scope.tagsMatch, params)}
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
