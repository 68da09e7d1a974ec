import type { ObservationScopesSpec } from '../consolidation/observation-scopes.js';
import type { FactType } from '../memory.constants.js';
import type { Sql } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';

export interface NewDocument {
  originalText: string;
  metadata: Record<string, string>;
  tags: string[];
}

export interface NewMemoryUnit {
  documentId: string | null;
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
}

/**
 * Records a document's new version and takes its row lock, which serialises concurrent retains
 * of one document. Callers take several in document id order, one lock order for every writer.
 */
export async function upsertDocument(sql: Sql, bankId: string, documentId: string, document: NewDocument): Promise<void> {
  await sql.query(
    `INSERT INTO documents (bank_id, id, original_text, content_hash, metadata, tags)
     VALUES ($1, $2, $3, md5($3), $4::jsonb, $5::text[])
     ON CONFLICT (bank_id, id) DO UPDATE
       SET original_text = EXCLUDED.original_text, content_hash = EXCLUDED.content_hash,
           metadata = EXCLUDED.metadata, tags = EXCLUDED.tags, updated_at = now()`,
    [bankId, documentId, document.originalText, JSON.stringify(document.metadata), document.tags],
  );
}

/** Returns the new memory's id. */
export async function insertMemoryUnit(sql: Sql, vectors: VectorBackend, bankId: string, unit: NewMemoryUnit): Promise<string> {
  const [row] = await sql.query<{ id: string }>(
    `INSERT INTO memory_units
       (bank_id, document_id, text, context, fact_type, occurred_start, occurred_end, mentioned_at, metadata, tags, embedding,
        observation_scopes, attribute_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, now()), $9::jsonb, $10::text[], ${vectors.param('$11')}, $12::jsonb, $13)
     RETURNING id`,
    [
      bankId,
      unit.documentId,
      unit.text,
      unit.context,
      unit.factType,
      unit.occurredStart,
      unit.occurredEnd,
      unit.mentionedAt,
      JSON.stringify(unit.metadata),
      unit.tags,
      vectors.serialize(unit.embedding),
      unit.observationScopes === null ? null : JSON.stringify(unit.observationScopes),
      unit.attributeKey,
    ],
  );
  return row.id;
}
