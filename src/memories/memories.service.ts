import { Inject, Injectable } from '@nestjs/common';
import { BanksService } from '../banks/banks.service.js';
import type { FactType } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { deleteUnlinkedEntities, entitiesLinkedToDocument, reclaimOrphanEntities } from '../entities/entities.queries.js';
import { deleteDocumentMemories, deleteMemories, retagMemories } from '../consolidation/source-changes.queries.js';
import {
  type DocumentRow,
  type MemoryRow,
  deleteAllDocuments,
  deleteDocumentRow,
  deleteMemoriesOutright,
  documentsPage,
  entitiesPage,
  findDocument,
  findMemory,
  lockDocument,
  lockDocumentMemories,
  lockMemoriesOfType,
  memoriesPage,
  setDocumentTags,
  tagsPage,
} from './memories.queries.js';
import type { DocumentRecord, EntityRecord, MemoryListFilter, MemoryRecord, Page } from './memory.types.js';
import { isUuid } from '../storage/uuid.js';

/** Reads of what a bank holds — memories, documents, entities, tags — and their deletion. */
@Injectable()
export class MemoriesService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  async list(bankId: string, filter: MemoryListFilter): Promise<Page<MemoryRecord>> {
    await this.banks.assertExists(bankId);
    const { rows, total } = await this.database.withConnection((sql) => memoriesPage(sql, bankId, filter));
    return { items: rows.map(toMemory), total, limit: filter.limit, offset: filter.offset };
  }

  async get(bankId: string, memoryId: string): Promise<MemoryRecord> {
    const notFound = new MemoryException(MemoryErrorCode.MemoryNotFound, `Memory unit '${memoryId}' not found`);
    if (!isUuid(memoryId)) throw notFound;
    const row = await this.database.withConnection((sql) => findMemory(sql, bankId, memoryId));
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
        affected = await deleteMemories(sql, bankId, await lockMemoriesOfType(sql, bankId, type));
      } else {
        affected = await deleteMemoriesOutright(sql, bankId, type ?? null);
      }
      await deleteUnlinkedEntities(sql, bankId);
      if (!type) await deleteAllDocuments(sql, bankId);
      return affected;
    });
  }

  async listDocuments(bankId: string, filter: { q?: string; limit: number; offset: number }): Promise<Page<DocumentRecord>> {
    await this.banks.assertExists(bankId);
    const { rows, total } = await this.database.withConnection((sql) => documentsPage(sql, bankId, filter));
    return { items: rows.map(toDocument), total, limit: filter.limit, offset: filter.offset };
  }

  async getDocument(bankId: string, documentId: string): Promise<DocumentRecord> {
    const row = await this.database.withConnection((sql) => findDocument(sql, bankId, documentId));
    if (!row) throw documentNotFound();
    return toDocument(row);
  }

  /** Deletes the document and, by cascade, its memories; returns how many memories went. */
  async deleteDocument(bankId: string, documentId: string): Promise<number> {
    return this.database.transaction(async (sql) => {
      if (!(await lockDocument(sql, bankId, documentId))) throw documentNotFound();
      const linked = await entitiesLinkedToDocument(sql, bankId, documentId);
      const affected = await deleteDocumentMemories(sql, bankId, documentId);
      await deleteDocumentRow(sql, bankId, documentId);
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
      if (!(await lockDocument(sql, bankId, documentId))) throw documentNotFound();
      await setDocumentTags(sql, bankId, documentId, newTags);
      return retagMemories(sql, bankId, await lockDocumentMemories(sql, bankId, documentId), newTags);
    });
  }

  async listEntities(bankId: string, page: { limit: number; offset: number }): Promise<Page<EntityRecord>> {
    await this.banks.assertExists(bankId);
    const { rows, total } = await this.database.withConnection((sql) => entitiesPage(sql, bankId, page));
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
      total,
      ...page,
    };
  }

  /** Tags in use with their memory counts; `q` is a pattern where `*` matches anything. */
  async listTags(bankId: string, filter: { q?: string; limit: number; offset: number }): Promise<Page<{ tag: string; count: number }>> {
    await this.banks.assertExists(bankId);
    const { rows, total } = await this.database.withConnection((sql) => tagsPage(sql, bankId, filter));
    return { items: rows.map((row) => ({ tag: row.tag, count: Number(row.count) })), total, ...filter };
  }
}

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
    chunkId: row.chunk_id,
    proofCount: row.proof_count,
    supersededBy: row.superseded_by ?? null,
    supersededAt: row.superseded_at ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function documentNotFound(): MemoryException {
  return new MemoryException(MemoryErrorCode.DocumentNotFound, 'Document not found');
}
