import type { Sql } from '../storage/memory-database.js';

// ---- Stored files (archives): parts of bounded size, written and read a few at a time. ----

export interface StoredFileRow {
  bank_id: string;
  key: string;
  purpose: 'export' | 'import';
  filename: string;
  content_type: string;
  byte_size: string | null;
}

export interface NewStoredFile {
  bankId: string;
  key: string;
  purpose: 'export' | 'import';
  filename: string;
  contentType: string;
  expiresAt: Date;
}

export async function createStoredFile(sql: Sql, file: NewStoredFile): Promise<void> {
  await sql.query(`INSERT INTO stored_files (bank_id, key, purpose, filename, content_type, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
    file.bankId,
    file.key,
    file.purpose,
    file.filename,
    file.contentType,
    file.expiresAt,
  ]);
}

export async function insertFilePart(sql: Sql, bankId: string, key: string, seq: number, bytes: Uint8Array): Promise<void> {
  await sql.query(`INSERT INTO stored_file_parts (bank_id, key, seq, bytes) VALUES ($1, $2, $3, $4)`, [
    bankId,
    key,
    seq,
    Buffer.from(bytes),
  ]);
}

/** A file is readable once its size is set: until then it is being written, or was abandoned. */
export async function completeStoredFile(sql: Sql, bankId: string, key: string, byteSize: number): Promise<void> {
  await sql.query(`UPDATE stored_files SET byte_size = $3 WHERE bank_id = $1 AND key = $2`, [bankId, key, byteSize]);
}

export async function findCompleteStoredFile(sql: Sql, key: string): Promise<StoredFileRow | undefined> {
  const [row] = await sql.query<StoredFileRow>(
    `SELECT bank_id, key, purpose, filename, content_type, byte_size FROM stored_files
      WHERE key = $1 AND byte_size IS NOT NULL AND expires_at > now()`,
    [key],
  );
  return row;
}

export async function readFileParts(sql: Sql, bankId: string, key: string, fromSeq: number, limit: number): Promise<Buffer[]> {
  const rows = await sql.query<{ bytes: Uint8Array }>(
    `SELECT bytes FROM stored_file_parts WHERE bank_id = $1 AND key = $2 AND seq >= $3 ORDER BY seq LIMIT $4`,
    [bankId, key, fromSeq, limit],
  );
  // node-postgres answers a Buffer, PGlite a Uint8Array.
  return rows.map((row) => Buffer.from(row.bytes));
}

export async function deleteStoredFile(sql: Sql, bankId: string, key: string): Promise<void> {
  await sql.query(`DELETE FROM stored_files WHERE bank_id = $1 AND key = $2`, [bankId, key]);
}

/** Archives past their expiry, a bounded number per call (the watchdog calls it every round). */
export async function pruneExpiredFiles(sql: Sql, limit = 20): Promise<number> {
  const { affected } = await sql.execute(
    `DELETE FROM stored_files WHERE (bank_id, key) IN (SELECT bank_id, key FROM stored_files WHERE expires_at < now() LIMIT $1)`,
    [limit],
  );
  return affected;
}

// ---- Export reads: pages in primary-key order, so each page is an index range. ----

export interface ExportDocumentRow {
  id: string;
  original_text: string | null;
  metadata: Record<string, string>;
  tags: string[];
  created_at: Date;
}

export async function exportDocumentPage(
  sql: Sql,
  bankId: string,
  after: string | null,
  onlyIds: string[] | null,
  limit: number,
): Promise<ExportDocumentRow[]> {
  return sql.query<ExportDocumentRow>(
    `SELECT id, original_text, metadata, tags, created_at FROM documents
      WHERE bank_id = $1 AND ($2::text IS NULL OR id > $2) AND ($3::text[] IS NULL OR id = ANY($3::text[]))
        -- An append's placeholder row, inserted empty to take a lock, is no document yet.
        AND original_text IS NOT NULL
      ORDER BY id LIMIT $4`,
    [bankId, after, onlyIds, limit],
  );
}

export interface ExportChunkRow {
  document_id: string;
  chunk_index: number;
  chunk_text: string;
}

export async function exportChunks(sql: Sql, bankId: string, documentIds: string[]): Promise<ExportChunkRow[]> {
  return sql.query<ExportChunkRow>(
    `SELECT document_id, chunk_index, chunk_text FROM chunks
      WHERE bank_id = $1 AND document_id = ANY($2::text[]) ORDER BY document_id, chunk_index`,
    [bankId, documentIds],
  );
}

export interface ExportFactRow {
  id: string;
  document_id: string | null;
  text: string;
  fact_type: 'world' | 'experience';
  context: string | null;
  occurred_start: Date | null;
  occurred_end: Date | null;
  mentioned_at: Date;
  metadata: Record<string, string>;
  tags: string[];
  observation_scopes: unknown;
  attribute_key: string | null;
  chunk_index: number | null;
  consolidation_status: string;
  created_at: Date;
  updated_at: Date;
  entities: string[];
}

const EXPORT_FACT_COLUMNS = `
  m.id, m.document_id, m.text, m.fact_type, m.context, m.occurred_start, m.occurred_end, m.mentioned_at, m.metadata, m.tags,
  m.observation_scopes, m.attribute_key, c.chunk_index, m.consolidation_status, m.created_at, m.updated_at,
  ARRAY(SELECT e.name FROM unit_entities ue JOIN entities e ON e.bank_id = ue.bank_id AND e.id = ue.entity_id
         WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id ORDER BY e.canonical_name) AS entities`;

/** The valid memories of these documents; an invalidated one is not carried, as recall does not show it. */
export async function exportDocumentFacts(sql: Sql, bankId: string, documentIds: string[]): Promise<ExportFactRow[]> {
  return sql.query<ExportFactRow>(
    `SELECT ${EXPORT_FACT_COLUMNS}
       FROM memory_units m LEFT JOIN chunks c ON c.bank_id = m.bank_id AND c.id = m.chunk_id
      WHERE m.bank_id = $1 AND m.document_id = ANY($2::text[]) AND m.fact_type <> 'observation' AND m.state = 'valid'
      ORDER BY m.document_id, m.created_at, m.id`,
    [bankId, documentIds],
  );
}

/** Memories retained without a document, a page at a time in primary-key order. */
export async function exportLooseFactPage(sql: Sql, bankId: string, after: string | null, limit: number): Promise<ExportFactRow[]> {
  return sql.query<ExportFactRow>(
    `SELECT ${EXPORT_FACT_COLUMNS}
       FROM memory_units m LEFT JOIN chunks c ON c.bank_id = m.bank_id AND c.id = m.chunk_id
      WHERE m.bank_id = $1 AND ($2::uuid IS NULL OR m.id > $2) AND m.document_id IS NULL
        AND m.fact_type <> 'observation' AND m.state = 'valid'
      ORDER BY m.id LIMIT $3`,
    [bankId, after, limit],
  );
}

// ---- Import: the decisions taken under the document's row lock. ----

export async function documentExists(sql: Sql, bankId: string, documentId: string, lock: boolean): Promise<boolean> {
  const rows = await sql.query(`SELECT 1 FROM documents WHERE bank_id = $1 AND id = $2 ${lock ? 'FOR UPDATE' : ''}`, [bankId, documentId]);
  return rows.length > 0;
}

/**
 * Which of these loose memories the bank holds already (same text, said at the same moment):
 * a loose memory has no id of its own to be idempotent by.
 */
export async function existingLooseFacts(sql: Sql, bankId: string, texts: string[]): Promise<Array<{ text: string; mentioned_at: Date }>> {
  if (texts.length === 0) return [];
  // A join, not `text = ANY(…)`: that compares every row with every text of the page, and a page
  // holds a thousand of them.
  return sql.query<{ text: string; mentioned_at: Date }>(
    `SELECT m.text, m.mentioned_at
       FROM memory_units m JOIN (SELECT DISTINCT t FROM unnest($2::text[]) AS u(t)) page ON m.text = page.t
      WHERE m.bank_id = $1 AND m.document_id IS NULL`,
    [bankId, texts],
  );
}
