import { SqlParams } from '../recall/arms/sql-params.js';
import { sourcesVisible, tagPredicate } from '../recall/arms/visible-memories.js';
import type { FactType, TagsMatch } from '../recall/recall.types.js';
import type { Sql } from '../storage/memory-database.js';

export interface GraphFilter {
  bankId: string;
  factType?: FactType;
  /** Substring of the text or context, case-insensitive. */
  q?: string;
  tags: readonly string[];
  tagsMatch: TagsMatch;
  documentId?: string;
  chunkId?: string;
  limit: number;
}

export interface GraphUnitRow {
  id: string;
  text: string;
  context: string | null;
  fact_type: FactType;
  document_id: string | null;
  chunk_id: string | null;
  tags: string[];
  mentioned_at: Date | null;
  occurred_start: Date | null;
  occurred_end: Date | null;
  created_at: Date;
  proof_count: number | null;
  source_memory_ids: string[] | null;
}

/**
 * The memories the graph shows, newest first, and how many match in all. A document or chunk
 * filter also matches the observations built from its memories, which have neither of their own; a tag filter hides an observation any of whose sources it would hide, as recall does.
 */
export async function graphUnits(sql: Sql, filter: GraphFilter): Promise<{ rows: GraphUnitRow[]; total: number }> {
  const params = new SqlParams();
  const bank = params.add(filter.bankId);
  const conditions = [`m.bank_id = ${bank}`];
  if (filter.factType) conditions.push(`m.fact_type = ${params.add(filter.factType)}`);
  if (filter.documentId) conditions.push(fromSources('document_id', params.add(filter.documentId), bank));
  if (filter.chunkId) conditions.push(fromSources('chunk_id', `${params.add(filter.chunkId)}::uuid`, bank));
  if (filter.q) {
    const pattern = params.add(`%${filter.q.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
    conditions.push(`(m.text ILIKE ${pattern} OR m.context ILIKE ${pattern})`);
  }
  conditions.push(tagPredicate('m.tags', filter.tags, filter.tagsMatch, params));
  conditions.push(sourcesVisible('m', filter.tags, filter.tagsMatch, params));
  const where = conditions.join(' AND ');

  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM memory_units m WHERE ${where}`, params.values);
  const rows = await sql.query<GraphUnitRow>(
    `SELECT m.id, m.text, m.context, m.fact_type, m.document_id, m.chunk_id, m.tags, m.mentioned_at, m.occurred_start, m.occurred_end,
            m.created_at, m.proof_count, m.source_memory_ids
       FROM memory_units m
      WHERE ${where}
      ORDER BY m.mentioned_at DESC NULLS LAST, m.created_at DESC, m.id
      LIMIT ${params.add(filter.limit)}`,
    params.values,
  );
  return { rows, total: Number(total) };
}

/** Memories with this document or chunk, and the observations built from any of them. */
function fromSources(column: 'document_id' | 'chunk_id', value: string, bank: string): string {
  return `(m.${column} = ${value} OR (m.fact_type = 'observation' AND m.source_memory_ids &&
     ARRAY(SELECT s.id FROM memory_units s WHERE s.bank_id = ${bank} AND s.${column} = ${value})))`;
}

/** The names (as first written) of the entities each memory is linked to, in name order. */
export async function unitEntityNames(sql: Sql, bankId: string, unitIds: string[]): Promise<Array<{ unit_id: string; name: string }>> {
  if (unitIds.length === 0) return [];
  return sql.query<{ unit_id: string; name: string }>(
    `SELECT ue.unit_id, e.name
       FROM unit_entities ue
       JOIN entities e ON e.bank_id = ue.bank_id AND e.id = ue.entity_id
      WHERE ue.bank_id = $1 AND ue.unit_id = ANY($2::uuid[])
      ORDER BY ue.unit_id, e.name`,
    [bankId, unitIds],
  );
}
