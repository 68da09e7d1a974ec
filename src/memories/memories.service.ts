import { Inject, Injectable } from '@nestjs/common';
import { BanksService } from '../banks/banks.service.js';
import type { FactType } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { deleteUnlinkedEntities, entitiesLinkedToDocument, reclaimOrphanEntities } from '../entities/entities.queries.js';
import { deleteDocumentMemories, deleteMemories, retagMemories } from '../consolidation/source-changes.queries.js';
import type { ObservationScopesSpec } from '../consolidation/observation-scopes.js';
import type { DocumentRecord, EntityRecord, MemoryRecord, Page } from './memory.types.js';
import { isUuid } from '../storage/uuid.js';

interface MemoryRow {
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
  proof_count: number | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns every memory read selects, with the names of its entities. */
const MEMORY_COLUMNS = `
  m.id, m.bank_id, m.text, m.context, m.fact_type, m.document_id, m.occurred_start, m.occurred_end,
  m.mentioned_at, m.metadata, m.tags, m.observation_scopes, m.state, m.consolidation_status, m.source_memory_ids, m.proof_count,
  m.created_at, m.updated_at,
  ARRAY(SELECT e.name FROM unit_entities ue JOIN entities e ON e.id = ue.entity_id
         WHERE ue.unit_id = m.id ORDER BY e.name) AS entities`;


export interface MemoryListFilter {
  type?: FactType;
  q?: string;
  documentId?: string;
  state?: 'valid' | 'invalidated';
  limit: number;
  offset: number;
}

/** Reads of what a bank holds — memories, documents, entities, tags — and their deletion. */
@Injectable()
export class MemoriesService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  async list(bankId: string, filter: MemoryListFilter): Promise<Page<MemoryRecord>> {
    await this.banks.assertExists(bankId);
    return this.database.withConnection(async (sql) => {
      const where = `m.bank_id = $1
        AND ($2::text IS NULL OR m.fact_type = $2)
        AND ($3::text IS NULL OR m.text ILIKE '%' || $3 || '%' OR m.context ILIKE '%' || $3 || '%')
        AND ($4::text IS NULL OR m.document_id = $4)
        AND m.state = COALESCE($5, 'valid')`;
      const params = [bankId, filter.type ?? null, escapeLike(filter.q), filter.documentId ?? null, filter.state ?? null];
      const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM memory_units m WHERE ${where}`, params);
      const rows = await sql.query<MemoryRow>(
        `SELECT ${MEMORY_COLUMNS} FROM memory_units m WHERE ${where}
          ORDER BY m.mentioned_at DESC NULLS LAST, m.created_at DESC, m.id LIMIT $6 OFFSET $7`,
        [...params, filter.limit, filter.offset],
      );
      return { items: rows.map(toMemory), total: Number(total), limit: filter.limit, offset: filter.offset };
    });
  }

  async get(bankId: string, memoryId: string): Promise<MemoryRecord> {
    const notFound = new MemoryException(MemoryErrorCode.MemoryNotFound, `Memory unit '${memoryId}' not found`);
    if (!isUuid(memoryId)) throw notFound;
    const [row] = await this.database.query<MemoryRow>(
      `SELECT ${MEMORY_COLUMNS} FROM memory_units m WHERE m.bank_id = $1 AND m.id = $2`,
      [bankId, memoryId],
    );
    if (!row) throw notFound;
    return toMemory(row);
  }

  /**
   * Deletes a bank's memories (of one type, or all), keeping the bank and its profile. Clearing
   * raw memories but not observations invalidates the observations built on them.
   */
  async clear(bankId: string, type?: FactType): Promise<number> {
    return this.database.transaction(async (sql) => {
      let affected: number;
      if (type && type !== 'observation') {
        const memories = await sql.query<{ id: string }>(
          `SELECT id FROM memory_units WHERE bank_id = $1 AND fact_type = $2 ORDER BY id FOR UPDATE`,
          [bankId, type],
        );
        affected = await deleteMemories(sql, bankId, memories.map((row) => row.id));
      } else {
        ({ affected } = await sql.execute(
          `DELETE FROM memory_units WHERE bank_id = $1 AND ($2::text IS NULL OR fact_type = $2)`,
          [bankId, type ?? null],
        ));
      }
      await deleteUnlinkedEntities(sql, bankId);
      if (!type) await sql.query(`DELETE FROM documents WHERE bank_id = $1`, [bankId]);
      return affected;
    });
  }

  async listDocuments(bankId: string, filter: { q?: string; limit: number; offset: number }): Promise<Page<DocumentRecord>> {
    await this.banks.assertExists(bankId);
    return this.database.withConnection(async (sql) => {
      const where = `d.bank_id = $1 AND ($2::text IS NULL OR d.id ILIKE '%' || $2 || '%')`;
      const params = [bankId, escapeLike(filter.q)];
      const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM documents d WHERE ${where}`, params);
      const rows = await sql.query<DocumentRow>(
        `SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE ${where}
          ORDER BY d.updated_at DESC, d.created_at DESC, d.id LIMIT $3 OFFSET $4`,
        [...params, filter.limit, filter.offset],
      );
      return { items: rows.map(toDocument), total: Number(total), limit: filter.limit, offset: filter.offset };
    });
  }

  async getDocument(bankId: string, documentId: string): Promise<DocumentRecord> {
    const [row] = await this.database.query<DocumentRow>(
      `SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE d.bank_id = $1 AND d.id = $2`,
      [bankId, documentId],
    );
    if (!row) throw documentNotFound();
    return toDocument(row);
  }

  /** Deletes the document and, by cascade, its memories; returns how many memories went. */
  async deleteDocument(bankId: string, documentId: string): Promise<number> {
    return this.database.transaction(async (sql) => {
      const [document] = await sql.query(`SELECT id FROM documents WHERE bank_id = $1 AND id = $2 FOR UPDATE`, [bankId, documentId]);
      if (!document) throw documentNotFound();
      const linked = await entitiesLinkedToDocument(sql, bankId, documentId);
      const affected = await deleteDocumentMemories(sql, bankId, documentId);
      await sql.query(`DELETE FROM documents WHERE bank_id = $1 AND id = $2`, [bankId, documentId]);
      await reclaimOrphanEntities(sql, linked);
      return affected;
    });
  }

  /**
   * Gives the document and each of its memories a new tag set (Hindsight's `PATCH documents`).
   * Observations built under the old tags belong to the old scope: they are invalidated and the
   * memories consolidated again under the new one. Returns the memories whose tags changed.
   */
  async retagDocument(bankId: string, documentId: string, tags: string[]): Promise<string[]> {
    const newTags = [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))];
    return this.database.transaction(async (sql) => {
      const [document] = await sql.query(`SELECT id FROM documents WHERE bank_id = $1 AND id = $2 FOR UPDATE`, [bankId, documentId]);
      if (!document) throw documentNotFound();
      await sql.query(`UPDATE documents SET tags = $3::text[], updated_at = now() WHERE bank_id = $1 AND id = $2`, [bankId, documentId, newTags]);
      const memories = await sql.query<{ id: string }>(
        `SELECT id FROM memory_units WHERE bank_id = $1 AND document_id = $2 ORDER BY id FOR UPDATE`,
        [bankId, documentId],
      );
      return retagMemories(sql, bankId, memories.map((row) => row.id), newTags);
    });
  }

  async listEntities(bankId: string, page: { limit: number; offset: number }): Promise<Page<EntityRecord>> {
    await this.banks.assertExists(bankId);
    return this.database.withConnection(async (sql) => {
      const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM entities WHERE bank_id = $1`, [bankId]);
      const rows = await sql.query<{
        id: string;
        name: string;
        canonical_name: string;
        entity_type: string | null;
        mention_count: number;
        first_seen: Date;
        last_seen: Date;
      }>(
        `SELECT * FROM entities WHERE bank_id = $1 ORDER BY mention_count DESC, last_seen DESC, id LIMIT $2 OFFSET $3`,
        [bankId, page.limit, page.offset],
      );
      return {
        items: rows.map((row) => ({
          id: row.id,
          name: row.name,
          canonicalName: row.canonical_name,
          type: row.entity_type,
          mentionCount: row.mention_count,
          firstSeen: row.first_seen,
          lastSeen: row.last_seen,
        })),
        total: Number(total),
        ...page,
      };
    });
  }

  /** Tags in use with their memory counts; `q` is a pattern where `*` matches anything. */
  async listTags(bankId: string, filter: { q?: string; limit: number; offset: number }): Promise<Page<{ tag: string; count: number }>> {
    await this.banks.assertExists(bankId);
    const pattern = filter.q ? escapeLike(filter.q)!.replace(/\*/g, '%') : null;
    return this.database.withConnection(async (sql) => {
      const tagged = `SELECT tag, count(*) AS count FROM memory_units m, unnest(m.tags) AS tag
                       WHERE m.bank_id = $1 AND ($2::text IS NULL OR tag ILIKE $2) GROUP BY tag`;
      const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM (${tagged}) t`, [bankId, pattern]);
      const rows = await sql.query<{ tag: string; count: string }>(`${tagged} ORDER BY count DESC, tag LIMIT $3 OFFSET $4`, [
        bankId,
        pattern,
        filter.limit,
        filter.offset,
      ]);
      return { items: rows.map((row) => ({ tag: row.tag, count: Number(row.count) })), total: Number(total), ...filter };
    });
  }
}

interface DocumentRow {
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

const DOCUMENT_COLUMNS = `d.*,
  (SELECT jsonb_object_agg(fact_type, n) FROM
     (SELECT fact_type, count(*) AS n FROM memory_units m WHERE m.bank_id = d.bank_id AND m.document_id = d.id GROUP BY fact_type) c
  ) AS by_type`;

function toDocument(row: DocumentRow): DocumentRecord {
  const memoriesByType = Object.fromEntries(Object.entries(row.by_type ?? {}).map(([type, n]) => [type, Number(n)]));
  return {
    id: row.id,
    bankId: row.bank_id,
    originalText: row.original_text,
    contentHash: row.content_hash,
    metadata: row.metadata,
    tags: row.tags,
    memoryUnitCount: Object.values(memoriesByType).reduce((a, b) => a + b, 0),
    memoriesByType,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toMemory(row: MemoryRow): MemoryRecord {
  return {
    id: row.id,
    bankId: row.bank_id,
    text: row.text,
    context: row.context,
    type: row.fact_type,
    documentId: row.document_id,
    occurredStart: row.occurred_start,
    occurredEnd: row.occurred_end,
    mentionedAt: row.mentioned_at,
    metadata: row.metadata,
    tags: row.tags,
    observationScopes: row.observation_scopes ?? null,
    entities: row.entities ?? [],
    state: row.state,
    consolidationStatus: row.consolidation_status,
    sourceMemoryIds: row.source_memory_ids,
    proofCount: row.proof_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function documentNotFound(): MemoryException {
  return new MemoryException(MemoryErrorCode.DocumentNotFound, 'Document not found');
}

/** User text inside ILIKE must match literally. */
function escapeLike(value: string | undefined): string | null {
  return value ? value.replace(/[\\%_]/g, (char) => `\\${char}`) : null;
}
