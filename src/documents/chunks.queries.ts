import { SqlParams } from '../recall/arms/sql-params.js';
import { tagPredicate } from '../recall/arms/visible-memories.js';
import type { TagsMatch } from '../recall/recall.types.js';
import type { Sql } from '../storage/memory-database.js';

export interface ChunkRow {
  id: string;
  bank_id: string;
  document_id: string;
  chunk_index: number;
  chunk_text: string;
  created_at: Date;
}

export interface NewChunk {
  id: string;
  documentId: string;
  index: number;
  text: string;
}

const CHUNK_COLUMNS = 'c.id, c.bank_id, c.document_id, c.chunk_index, c.chunk_text, c.created_at';

/** Chunk ids are UUIDs; anything else names no chunk (and must not reach a `uuid` comparison). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isChunkId(value: string): boolean {
  return UUID.test(value);
}

export async function insertChunks(sql: Sql, bankId: string, chunks: NewChunk[]): Promise<void> {
  if (chunks.length === 0) return;
  await sql.query(
    `INSERT INTO chunks (bank_id, id, document_id, chunk_index, chunk_text)
     SELECT $1, c.id, c.document_id, c.chunk_index, c.chunk_text
       FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[]) AS c(id, document_id, chunk_index, chunk_text)`,
    [
      bankId,
      chunks.map((chunk) => chunk.id),
      chunks.map((chunk) => chunk.documentId),
      chunks.map((chunk) => chunk.index),
      chunks.map((chunk) => chunk.text),
    ],
  );
}

/** The chunks of the documents' previous versions; their memories must be gone first (or keep pointing at nothing). */
export async function deleteDocumentsChunks(sql: Sql, bankId: string, documentIds: string[]): Promise<void> {
  if (documentIds.length === 0) return;
  await sql.query(`DELETE FROM chunks WHERE bank_id = $1 AND document_id = ANY($2::text[])`, [bankId, documentIds]);
}

export async function documentChunksPage(
  sql: Sql,
  bankId: string,
  documentId: string,
  page: { limit: number; offset: number },
): Promise<{ rows: ChunkRow[]; total: number }> {
  const rows = await sql.query<ChunkRow>(
    `SELECT ${CHUNK_COLUMNS} FROM chunks c WHERE c.bank_id = $1 AND c.document_id = $2 ORDER BY c.chunk_index LIMIT $3 OFFSET $4`,
    [bankId, documentId, page.limit, page.offset],
  );
  const [{ total }] = await sql.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM chunks WHERE bank_id = $1 AND document_id = $2`,
    [bankId, documentId],
  );
  return { rows, total };
}

export async function documentExists(sql: Sql, bankId: string, documentId: string): Promise<boolean> {
  const rows = await sql.query(`SELECT 1 FROM documents WHERE bank_id = $1 AND id = $2`, [bankId, documentId]);
  return rows.length > 0;
}

export async function findChunk(sql: Sql, chunkId: string): Promise<ChunkRow | undefined> {
  const [row] = await sql.query<ChunkRow>(`SELECT ${CHUNK_COLUMNS} FROM chunks c WHERE c.id = $1`, [chunkId]);
  return row;
}

/** What reprocessing a document retains again: its stored text, with what its memories were retained with. */
export interface ReprocessSource {
  original_text: string | null;
  metadata: Record<string, string>;
  tags: string[];
  context: string | null;
  mentioned_at: Date | null;
  observation_scopes: unknown;
}

export async function findReprocessSource(sql: Sql, bankId: string, documentId: string): Promise<ReprocessSource | undefined> {
  const [row] = await sql.query<ReprocessSource>(
    `SELECT d.original_text, d.metadata, d.tags, m.context, m.mentioned_at, m.observation_scopes
       FROM documents d
       LEFT JOIN LATERAL (
         SELECT context, mentioned_at, observation_scopes FROM memory_units
          WHERE bank_id = d.bank_id AND document_id = d.id AND fact_type <> 'observation'
          ORDER BY created_at, id LIMIT 1) m ON TRUE
      WHERE d.bank_id = $1 AND d.id = $2`,
    [bankId, documentId],
  );
  return row;
}

/** The chunk each memory was extracted from, for the memories that have one. */
export async function chunkIdsOfMemories(sql: Sql, bankId: string, memoryIds: string[]): Promise<Map<string, string>> {
  if (memoryIds.length === 0) return new Map();
  const rows = await sql.query<{ id: string; chunk_id: string }>(
    `SELECT id, chunk_id FROM memory_units WHERE bank_id = $1 AND id = ANY($2::uuid[]) AND chunk_id IS NOT NULL`,
    [bankId, memoryIds],
  );
  return new Map(rows.map((row) => [row.id, row.chunk_id]));
}

export async function chunksByIds(sql: Sql, bankId: string, chunkIds: string[]): Promise<ChunkRow[]> {
  if (chunkIds.length === 0) return [];
  return sql.query<ChunkRow>(`SELECT ${CHUNK_COLUMNS} FROM chunks c WHERE c.bank_id = $1 AND c.id = ANY($2::uuid[])`, [bankId, chunkIds]);
}

export interface SourceFactRow {
  id: string;
  text: string;
  fact_type: string;
  context: string | null;
  occurred_start: Date | null;
  occurred_end: Date | null;
  mentioned_at: Date | null;
  document_id: string | null;
  chunk_id: string | null;
  metadata: Record<string, string>;
  tags: string[];
  entities: string[];
}

/**
 * The live memories among `ids` that the caller's tag filter shows: an observation is shown only
 * where its sources are, so a source the filter hides stays hidden even when asked for by id.
 */
export async function visibleSourceFacts(
  sql: Sql,
  bankId: string,
  ids: string[],
  filter: { tags: readonly string[]; tagsMatch: TagsMatch },
): Promise<SourceFactRow[]> {
  if (ids.length === 0) return [];
  const params = new SqlParams();
  return sql.query<SourceFactRow>(
    `SELECT m.id, m.text, m.fact_type, m.context, m.occurred_start, m.occurred_end, m.mentioned_at, m.document_id, m.chunk_id,
            m.metadata, m.tags,
            ARRAY(SELECT e.name FROM unit_entities ue JOIN entities e ON e.bank_id = ue.bank_id AND e.id = ue.entity_id
                   WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id ORDER BY e.canonical_name) AS entities
       FROM memory_units m
      WHERE m.bank_id = ${params.add(bankId)} AND m.id = ANY(${params.add(ids)}::uuid[]) AND m.state = 'valid'
        AND ${tagPredicate('m.tags', filter.tags, filter.tagsMatch, params)}`,
    params.values,
  );
}

/** The bank's `retain_chunk_size` override, if it has one (and exists). */
export async function configuredChunkSize(sql: Sql, bankId: string): Promise<number | null> {
  const [row] = await sql.query<{ size: string | null }>(`SELECT config->>'retain_chunk_size' AS size FROM banks WHERE id = $1`, [bankId]);
  const size = Number(row?.size ?? NaN);
  return Number.isInteger(size) && size > 0 ? size : null;
}
