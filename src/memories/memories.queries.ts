import type { ObservationScopesSpec } from '../consolidation/observation-scopes.js';
import type { FactType } from '../memory.constants.js';
import type { Sql } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import { SqlParams } from '../recall/arms/sql-params.js';
import { sourcesVisible, tagPredicate } from '../recall/arms/visible-memories.js';
import type { ConsolidationState, DocumentListFilter, MemoryListFilter } from './memory.types.js';

export interface MemoryRow {
  id: string;
  bank_id: string;
  text: string;
  context: string | null;
  fact_type: FactType;
  document_id: string | null;
  occurred_start: Date | null;
  occurred_end: Date | null;
  mentioned_at: Date | null;
  metadata: Record<string, string>;
  tags: string[];
  observation_scopes: ObservationScopesSpec | null;
  entities: string[] | null;
  state: 'valid' | 'invalidated';
  consolidation_status: string;
  source_memory_ids: string[] | null;
  chunk_id: string | null;
  proof_count: number | null;
  superseded_by: string | null;
  superseded_at: Date | null;
  edited_at: Date | null;
  invalidated_at: Date | null;
  invalidation_reason: string | null;
  consolidated_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DocumentRow {
  id: string;
  bank_id: string;
  original_text: string | null;
  content_hash: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  created_at: Date;
  updated_at: Date;
  by_type: Record<string, number> | null;
}

export interface EntityRow {
  id: string;
  name: string;
  canonical_name: string;
  entity_type: string | null;
  mention_count: number;
  first_seen: Date;
  last_seen: Date;
}

export interface TagCountRow {
  tag: string;
  count: string;
}

/** The columns an edit's embedding was computed from, read again to see whether they changed. */
export interface EditSnapshotRow {
  fact_type: string;
  text: string;
  context: string | null;
}

export interface EditStampsRow {
  edited_at: Date | null;
  invalidated_at: Date | null;
  invalidation_reason: string | null;
}

/** One page of rows, and how many there are in all. */
export interface RowPage<Row> {
  rows: Row[];
  total: number;
}

/** The columns every memory read selects, with the names of its entities. */
const MEMORY_COLUMNS = `
  m.id, m.bank_id, m.text, m.context, m.fact_type, m.document_id, m.occurred_start, m.occurred_end,
  m.mentioned_at, m.metadata, m.tags, m.observation_scopes, m.state, m.consolidation_status, m.source_memory_ids, m.chunk_id, m.proof_count,
  m.superseded_by, m.superseded_at, m.edited_at, m.invalidated_at, m.invalidation_reason, m.consolidated_at, m.created_at, m.updated_at,
  ARRAY(SELECT e.name FROM unit_entities ue JOIN entities e ON e.bank_id = ue.bank_id AND e.id = ue.entity_id
         WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id ORDER BY e.name) AS entities`;

const DOCUMENT_COLUMNS = `d.*,
  (SELECT jsonb_object_agg(fact_type, n) FROM
     (SELECT fact_type, count(*) AS n FROM memory_units m WHERE m.bank_id = d.bank_id AND m.document_id = d.id GROUP BY fact_type) c
  ) AS by_type`;

/**
 * One page of the bank's memories, newest first. The tag filter is recall's (`tagPredicate`), and
 * like recall it hides an observation any of whose sources the filter would hide, so a listing
 * never shows text derived from another scope.
 */
export async function memoriesPage(sql: Sql, bankId: string, filter: MemoryListFilter): Promise<RowPage<MemoryRow>> {
  const params = new SqlParams();
  const bank = params.add(bankId);
  const conditions = [`m.bank_id = ${bank}`, `m.state = ${params.add(filter.state ?? 'valid')}`];
  if (filter.type) conditions.push(`m.fact_type = ${params.add(filter.type)}`);
  if (filter.q) {
    const pattern = params.add(`%${escapeLike(filter.q)}%`);
    conditions.push(`(m.text ILIKE ${pattern} OR m.context ILIKE ${pattern})`);
  }
  if (filter.documentId) conditions.push(`m.document_id = ${params.add(filter.documentId)}`);
  if (filter.consolidationState) conditions.push(consolidationStatePredicate(filter.consolidationState));
  if (filter.entityId) {
    conditions.push(`m.id IN (SELECT ue.unit_id FROM unit_entities ue
                               WHERE ue.bank_id = ${bank} AND ue.entity_id = ${params.add(filter.entityId)}::uuid)`);
  }
  const tags = filter.tags ?? [];
  const match = filter.tagsMatch ?? 'any';
  conditions.push(tagPredicate('m.tags', tags, match, params), sourcesVisible('m', tags, match, params));
  const where = conditions.join(' AND ');
  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM memory_units m WHERE ${where}`, params.values);
  const rows = await sql.query<MemoryRow>(
    `SELECT ${MEMORY_COLUMNS} FROM memory_units m WHERE ${where}
          ORDER BY m.mentioned_at DESC NULLS LAST, m.created_at DESC, m.id LIMIT ${params.add(filter.limit)} OFFSET ${params.add(filter.offset)}`,
    params.values,
  );
  return { rows, total: Number(total) };
}

/**
 * Hindsight's states: `pending` is "not consolidated yet and not failed", so a batch's claim in
 * progress still counts as pending, as the bank's stats count it. Only raw memories are consolidated.
 */
function consolidationStatePredicate(state: ConsolidationState): string {
  const raw = `m.fact_type IN ('world', 'experience')`;
  switch (state) {
    case 'failed':
      return `(${raw} AND m.consolidation_status = 'failed')`;
    case 'pending':
      return `(${raw} AND m.consolidation_status IN ('pending', 'claimed'))`;
    case 'done':
      return `(${raw} AND m.consolidation_status = 'done')`;
    default: {
      const unknown: never = state;
      throw new Error(`unknown consolidation state '${String(unknown)}'`);
    }
  }
}

export async function findMemory(sql: Sql, bankId: string, memoryId: string): Promise<MemoryRow | undefined> {
  const [row] = await sql.query<MemoryRow>(`SELECT ${MEMORY_COLUMNS} FROM memory_units m WHERE m.bank_id = $1 AND m.id = $2`, [
    bankId,
    memoryId,
  ]);
  return row;
}

/** Locks, in id order (the lock order of every writer of memories), the bank's memories of one type. */
export async function lockMemoriesOfType(sql: Sql, bankId: string, type: FactType): Promise<string[]> {
  const memories = await sql.query<{ id: string }>(
    `SELECT id FROM memory_units WHERE bank_id = $1 AND fact_type = $2 ORDER BY id FOR UPDATE`,
    [bankId, type],
  );
  return memories.map((row) => row.id);
}

/**
 * Deletes the bank's memories (of one type, or all) with no care for what was derived from them:
 * for use when that goes too (all types) or when they are what was derived (observations).
 * Returns how many went.
 */
export async function deleteMemoriesOutright(sql: Sql, bankId: string, type: FactType | null): Promise<number> {
  const { affected } = await sql.execute(`DELETE FROM memory_units WHERE bank_id = $1 AND ($2::text IS NULL OR fact_type = $2)`, [
    bankId,
    type,
  ]);
  return affected;
}

export async function deleteAllDocuments(sql: Sql, bankId: string): Promise<void> {
  await sql.query(`DELETE FROM documents WHERE bank_id = $1`, [bankId]);
}

export async function documentsPage(sql: Sql, bankId: string, filter: DocumentListFilter): Promise<RowPage<DocumentRow>> {
  const params = new SqlParams();
  const conditions = [`d.bank_id = ${params.add(bankId)}`];
  if (filter.q) conditions.push(`d.id ILIKE ${params.add(`%${escapeLike(filter.q)}%`)}`);
  conditions.push(tagPredicate('d.tags', filter.tags ?? [], filter.tagsMatch ?? 'any_strict', params));
  const where = conditions.join(' AND ');
  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM documents d WHERE ${where}`, params.values);
  const rows = await sql.query<DocumentRow>(
    `SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE ${where}
          ORDER BY d.updated_at DESC, d.created_at DESC, d.id LIMIT ${params.add(filter.limit)} OFFSET ${params.add(filter.offset)}`,
    params.values,
  );
  return { rows, total: Number(total) };
}

export async function findDocument(sql: Sql, bankId: string, documentId: string): Promise<DocumentRow | undefined> {
  const [row] = await sql.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE d.bank_id = $1 AND d.id = $2`, [
    bankId,
    documentId,
  ]);
  return row;
}

/**
 * Locks the document row before its memories (one lock order for every writer, retain's
 * replacement of a document included); false when there is no such document.
 */
export async function lockDocument(sql: Sql, bankId: string, documentId: string): Promise<boolean> {
  const [document] = await sql.query(`SELECT id FROM documents WHERE bank_id = $1 AND id = $2 FOR UPDATE`, [bankId, documentId]);
  return document !== undefined;
}

export async function deleteDocumentRow(sql: Sql, bankId: string, documentId: string): Promise<void> {
  await sql.query(`DELETE FROM documents WHERE bank_id = $1 AND id = $2`, [bankId, documentId]);
}

export async function setDocumentTags(sql: Sql, bankId: string, documentId: string, tags: string[]): Promise<void> {
  await sql.query(`UPDATE documents SET tags = $3::text[], updated_at = now() WHERE bank_id = $1 AND id = $2`, [bankId, documentId, tags]);
}

/** Locks the document's memories in id order, the lock order of every writer of memories. */
export async function lockDocumentMemories(sql: Sql, bankId: string, documentId: string): Promise<string[]> {
  const memories = await sql.query<{ id: string }>(
    `SELECT id FROM memory_units WHERE bank_id = $1 AND document_id = $2 ORDER BY id FOR UPDATE`,
    [bankId, documentId],
  );
  return memories.map((row) => row.id);
}

export async function entitiesPage(sql: Sql, bankId: string, page: { limit: number; offset: number }): Promise<RowPage<EntityRow>> {
  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM entities WHERE bank_id = $1`, [bankId]);
  const rows = await sql.query<EntityRow>(
    `SELECT * FROM entities WHERE bank_id = $1 ORDER BY mention_count DESC, last_seen DESC, id LIMIT $2 OFFSET $3`,
    [bankId, page.limit, page.offset],
  );
  return { rows, total: Number(total) };
}

/** Tags in use with their memory counts; in `q`, `*` matches anything. */
export async function tagsPage(
  sql: Sql,
  bankId: string,
  filter: { q?: string; limit: number; offset: number },
): Promise<RowPage<TagCountRow>> {
  const pattern = filter.q ? escapeLike(filter.q)!.replace(/\*/g, '%') : null;
  const tagged = `SELECT tag, count(*) AS count FROM memory_units m, unnest(m.tags) AS tag
                       WHERE m.bank_id = $1 AND ($2::text IS NULL OR tag ILIKE $2) GROUP BY tag`;
  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM (${tagged}) t`, [bankId, pattern]);
  const rows = await sql.query<TagCountRow>(`${tagged} ORDER BY count DESC, tag LIMIT $3 OFFSET $4`, [
    bankId,
    pattern,
    filter.limit,
    filter.offset,
  ]);
  return { rows, total: Number(total) };
}

/** Phase 1 of an edit: a plain read, no lock held across the embedding that follows. */
export async function readEditSnapshot(sql: Sql, bankId: string, memoryId: string): Promise<EditSnapshotRow | undefined> {
  const [snapshot] = await sql.query<EditSnapshotRow>(`SELECT fact_type, text, context FROM memory_units WHERE bank_id = $1 AND id = $2`, [
    bankId,
    memoryId,
  ]);
  return snapshot;
}

/** Phase 2 of an edit: the memory row is the first lock its transaction takes. */
export async function lockEditSnapshot(sql: Sql, bankId: string, memoryId: string): Promise<EditSnapshotRow | undefined> {
  const [current] = await sql.query<EditSnapshotRow>(
    `SELECT fact_type, text, context FROM memory_units WHERE bank_id = $1 AND id = $2 FOR UPDATE`,
    [bankId, memoryId],
  );
  return current;
}

export interface MemoryEditChange {
  text: string;
  context: string | null;
  /** Computed from `text` in phase 1; `null` keeps the stored one. */
  embedding: number[] | null;
  /** `text` and `context`'s count for recall's token budget (`memoryTokens`), computed in phase 1. */
  tokens: number;
  /** Stamps `edited_at`. */
  contentChanged: boolean;
  /** `null` keeps the state. */
  state: 'valid' | 'invalidated' | null;
  reason: string | null;
}

/**
 * Writes an edit. Invalidating stamps the time and the reason, validating clears both, and a
 * reason given without a change of state replaces the stored one.
 */
export async function updateEditedMemory(
  sql: Sql,
  vectors: VectorBackend,
  bankId: string,
  memoryId: string,
  change: MemoryEditChange,
): Promise<EditStampsRow> {
  const [stamps] = await sql.query<EditStampsRow>(
    `UPDATE memory_units
          SET text = $3, context = $4, tokens_cl100k = $10,
              embedding = CASE WHEN $5::boolean THEN ${vectors.param('$6')} ELSE embedding END,
              edited_at = CASE WHEN $7::boolean THEN now() ELSE edited_at END,
              state = COALESCE($8, state),
              invalidated_at = CASE $8 WHEN 'invalidated' THEN now() WHEN 'valid' THEN NULL ELSE invalidated_at END,
              invalidation_reason = CASE $8 WHEN 'invalidated' THEN $9 WHEN 'valid' THEN NULL
                                    ELSE COALESCE($9, invalidation_reason) END,
              updated_at = now()
        WHERE bank_id = $1 AND id = $2
        RETURNING edited_at, invalidated_at, invalidation_reason`,
    [
      bankId,
      memoryId,
      change.text,
      change.context,
      change.embedding !== null,
      change.embedding ? vectors.serialize(change.embedding) : null,
      change.contentChanged,
      change.state,
      change.reason,
      change.tokens,
    ],
  );
  return stamps;
}

export interface MemoryFactsChange {
  /** `undefined` keeps the stored value, `null` clears it. */
  occurredStart: Date | null | undefined;
  occurredEnd: Date | null | undefined;
  /** `null` keeps the stored type. */
  factType: 'world' | 'experience' | null;
}

/** The dates and type an edit may change, written after the memory row was locked. Returns the range as it now stands. */
export async function updateMemoryFacts(
  sql: Sql,
  bankId: string,
  memoryId: string,
  change: MemoryFactsChange,
): Promise<{ occurred_start: Date | null; occurred_end: Date | null }> {
  const [range] = await sql.query<{ occurred_start: Date | null; occurred_end: Date | null }>(
    `UPDATE memory_units
          SET occurred_start = CASE WHEN $3::boolean THEN $4::timestamptz ELSE occurred_start END,
              occurred_end = CASE WHEN $5::boolean THEN $6::timestamptz ELSE occurred_end END,
              fact_type = COALESCE($7, fact_type),
              edited_at = now(), updated_at = now()
        WHERE bank_id = $1 AND id = $2
        RETURNING occurred_start, occurred_end`,
    [
      bankId,
      memoryId,
      change.occurredStart !== undefined,
      change.occurredStart ?? null,
      change.occurredEnd !== undefined,
      change.occurredEnd ?? null,
      change.factType,
    ],
  );
  return range;
}

/** User text inside ILIKE must match literally. */
function escapeLike(value: string | undefined): string | null {
  return value ? value.replace(/[\\%_]/g, (char) => `\\${char}`) : null;
}
