import { randomUUID } from 'node:crypto';
import type { ObservationScopesSpec } from '../consolidation/observation-scopes.js';
import type { FactType } from '../memory.constants.js';
import type { Sql } from '../storage/memory-database.js';
import { inChunks } from '../storage/row-chunks.js';
import type { VectorBackend } from '../storage/vector-backend.js';

/**
 * Rows per multi-row statement. The statements below bind one array per column, so their
 * parameter count is fixed; this bounds the size of each array (a memory's embedding alone is a
 * few kilobytes of text), and so the size of one message and of one statement's work.
 */
const ROWS_PER_STATEMENT = 500;

export interface NewDocument {
  documentId: string;
  originalText: string;
  metadata: Record<string, string>;
  tags: string[];
}

export interface NewMemoryUnit {
  documentId: string | null;
  /** The stored chunk of the document the fact was extracted from; `null` without a document. */
  chunkId: string | null;
  text: string;
  context: string | null;
  factType: FactType;
  occurredStart: Date | null;
  occurredEnd: Date | null;
  /** `null`: now, on the database's clock. */
  mentionedAt: Date | null;
  metadata: Record<string, string>;
  tags: string[];
  embedding: number[];
  /** `null` is the default (`combined`). */
  observationScopes: ObservationScopesSpec | null;
  /** Which fact about whom it states, for supersession; `null` when the rule is not sure. */
  attributeKey: string | null;
  /** What it costs recall's token budget (`memoryTokens`); `null` leaves the counting to recall. */
  tokens: number | null;
  /**
   * The entities it will be linked to (`resolveMentionedEntities`), written on its row for recall;
   * the caller links them after the insert (`linkNewMemories`).
   */
  entityIds: string[];
}

/**
 * Records documents' new versions and takes their row locks, which serialises concurrent retains
 * of one document. Rows are written, and so locked, in the order given: callers pass them in
 * document id order, one lock order for every writer.
 */
export async function upsertDocuments(sql: Sql, bankId: string, documents: NewDocument[]): Promise<void> {
  for (const chunk of inChunks(documents, ROWS_PER_STATEMENT)) {
    await sql.query(
      `INSERT INTO documents (bank_id, id, original_text, content_hash, metadata, tags)
       SELECT $1, d.id, d.original_text, md5(d.original_text), d.metadata::jsonb, d.tags::text[]
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS d(id, original_text, metadata, tags, ord)
        ORDER BY d.ord
       ON CONFLICT (bank_id, id) DO UPDATE
         SET original_text = EXCLUDED.original_text, content_hash = EXCLUDED.content_hash,
             metadata = EXCLUDED.metadata, tags = EXCLUDED.tags, updated_at = now()`,
      [
        bankId,
        chunk.map((document) => document.documentId),
        chunk.map((document) => document.originalText),
        chunk.map((document) => JSON.stringify(document.metadata)),
        chunk.map((document) => textArrayLiteral(document.tags)),
      ],
    );
  }
}

/** What an append builds on: the stored text, and how its memories were retained. */
export interface AppendBaseRow {
  id: string;
  original_text: string | null;
  /** Compared again under the document lock, to see whether the text moved meanwhile. */
  content_hash: string | null;
  /** Of the document's first memory: the old text keeps the context and time it was said in. */
  context: string | null;
  mentioned_at: Date | null;
}

/** A plain read, before extraction: nothing is locked across the LLM and embedder calls that follow. */
export async function readAppendBases(sql: Sql, bankId: string, documentIds: string[]): Promise<AppendBaseRow[]> {
  return sql.query<AppendBaseRow>(
    `SELECT d.id, d.original_text, d.content_hash, m.context, m.mentioned_at
       FROM documents d
       LEFT JOIN LATERAL (
         SELECT context, mentioned_at FROM memory_units
          WHERE bank_id = d.bank_id AND document_id = d.id AND fact_type <> 'observation'
          ORDER BY created_at, id LIMIT 1) m ON TRUE
      WHERE d.bank_id = $1 AND d.id = ANY($2::text[])`,
    [bankId, documentIds],
  );
}

/**
 * Takes the row locks of the documents a retain writes (the lock `upsertDocuments` takes for a
 * replacement) and returns each one's content hash as it now stands, `null` for a document with
 * no text. A document that does not exist yet is inserted empty first, so that it has a row to
 * lock: two appends that both found it missing then serialise here, and the second sees the
 * first one's text. Callers pass the ids in the order `upsertDocuments` writes them.
 */
export async function lockDocumentsForAppend(sql: Sql, bankId: string, documentIds: string[]): Promise<Map<string, string | null>> {
  await sql.query(
    `INSERT INTO documents (bank_id, id)
     SELECT $1, d.id FROM unnest($2::text[]) WITH ORDINALITY AS d(id, ord) ORDER BY d.ord
     ON CONFLICT (bank_id, id) DO NOTHING`,
    [bankId, documentIds],
  );
  const rows = await sql.query<{ id: string; content_hash: string | null }>(
    `SELECT id, content_hash FROM documents WHERE bank_id = $1 AND id = ANY($2::text[]) ORDER BY id COLLATE "C" FOR UPDATE`,
    [bankId, documentIds],
  );
  return new Map(rows.map((row) => [row.id, row.content_hash]));
}

/**
 * Returns the new memories' ids, in the order given. The ids are drawn here (random UUIDs, as the
 * column's default would draw them) so that no caller depends on the order of `RETURNING` rows,
 * which PostgreSQL does not promise for a multi-row insert.
 */
export async function insertMemoryUnits(sql: Sql, vectors: VectorBackend, bankId: string, units: NewMemoryUnit[]): Promise<string[]> {
  const ids = units.map(() => randomUUID());
  let offset = 0;
  for (const chunk of inChunks(units, ROWS_PER_STATEMENT)) {
    const embeddings = vectors.serializeColumn(chunk.map((unit) => unit.embedding));
    await sql.query(
      `INSERT INTO memory_units
         (id, bank_id, document_id, text, context, fact_type, occurred_start, occurred_end, mentioned_at, metadata, tags, embedding,
          observation_scopes, attribute_key, chunk_id, tokens_cl100k, entity_ids)
       SELECT u.id, $1, u.document_id, u.text, u.context, u.fact_type, u.occurred_start, u.occurred_end, COALESCE(u.mentioned_at, now()),
              u.metadata::jsonb, u.tags::text[], ${vectors.param('u.embedding')}, u.observation_scopes::jsonb, u.attribute_key, u.chunk_id,
              u.tokens, u.entity_ids::uuid[]
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[],
                     $9::timestamptz[], $10::text[], $11::text[], $12::${embeddings.arrayType}, $13::text[], $14::text[], $15::uuid[], $16::int[],
                     $17::text[])
              WITH ORDINALITY
              AS u(id, document_id, text, context, fact_type, occurred_start, occurred_end, mentioned_at, metadata, tags, embedding,
                   observation_scopes, attribute_key, chunk_id, tokens, entity_ids, ord)
        ORDER BY u.ord`,
      [
        bankId,
        ids.slice(offset, offset + chunk.length),
        chunk.map((unit) => unit.documentId),
        chunk.map((unit) => unit.text),
        chunk.map((unit) => unit.context),
        chunk.map((unit) => unit.factType),
        chunk.map((unit) => unit.occurredStart),
        chunk.map((unit) => unit.occurredEnd),
        chunk.map((unit) => unit.mentionedAt),
        chunk.map((unit) => JSON.stringify(unit.metadata)),
        chunk.map((unit) => textArrayLiteral(unit.tags)),
        embeddings.value,
        chunk.map((unit) => (unit.observationScopes === null ? null : JSON.stringify(unit.observationScopes))),
        chunk.map((unit) => unit.attributeKey),
        chunk.map((unit) => unit.chunkId),
        chunk.map((unit) => unit.tokens),
        // One array literal per row, as for tags (uuids need no quoting).
        chunk.map((unit) => `{${unit.entityIds.join(',')}}`),
      ],
    );
    offset += chunk.length;
  }
  return ids;
}

/**
 * A row's tags as the text of a `text[]`: `unnest` of a two-dimensional array would flatten it,
 * and rows have tag lists of different lengths. Quoted as node-postgres quotes array elements,
 * so a tag is stored exactly as a bound `text[]` would store it.
 */
function textArrayLiteral(values: string[]): string {
  return `{${values.map((value) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}
