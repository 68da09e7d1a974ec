import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { BanksService, bankNotFound } from '../banks/banks.service.js';
import { lockBankForConsolidation } from '../consolidation/consolidation.queries.js';
import { enqueueConsolidation } from '../consolidation/consolidation.service.js';
import { canonicalScope, scopeKey } from '../consolidation/observation-scopes.js';
import { requeueForConsolidation } from '../consolidation/observation-scopes.queries.js';
import { AiClients } from '../external/ai-clients.js';
import { OperationsService } from '../operations/operations.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import { type ExtractedFact, type ExtractionInput, extractFactsBySentence, extractFactsWithLlm } from '../retain/fact-extraction.js';
import { fromExternalFailure } from '../memory.exception.js';
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
import {
  countObservationsByTags,
  deleteObservationsBuiltOn,
  findObservation,
  lockMemoryType,
  sourceFacts,
} from './memory-maintenance.queries.js';
import { observationChanges } from './observation-history.queries.js';
import type {
  DocumentListFilter,
  DocumentRecord,
  EntityRecord,
  MemoryListFilter,
  MemoryRecord,
  ObservationChange,
  ObservationScopeCount,
  Page,
} from './memory.types.js';
import { isUuid } from '../storage/uuid.js';

/** Reads of what a bank holds — memories, documents, entities, tags — and their deletion. */
@Injectable()
export class MemoriesService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(BanksService) private readonly banks: BanksService,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(AiClients) private readonly ai: AiClients,
  ) {}

  /** The exact tag sets the bank's live observations live under, most populous first. */
  async observationScopes(bankId: string): Promise<ObservationScopeCount[]> {
    const rows = await this.database.withConnection((sql) => countObservationsByTags(sql, bankId));
    // Observations are written with canonical tags; grouping again here keeps one entry per scope whatever order older rows hold.
    const byScope = new Map<string, ObservationScopeCount>();
    for (const row of rows) {
      const tags = canonicalScope(row.tags ?? []);
      const entry = byScope.get(scopeKey(tags)) ?? { tags, count: 0 };
      entry.count += Number(row.count);
      byScope.set(scopeKey(tags), entry);
    }
    return [...byScope.values()].sort((a, b) => b.count - a.count || scopeKey(a.tags).localeCompare(scopeKey(b.tags)));
  }

  /**
   * Deletes every observation built on the memory (the memory stays), puts the memory and the
   * other sources of those observations back in the consolidation queue, and queues a
   * consolidation of the bank so fresh observations follow. Returns how many observations went.
   */
  async clearMemoryObservations(bankId: string, memoryId: string): Promise<number> {
    if (!isUuid(memoryId)) throw memoryNotFound(memoryId);
    return this.database.transaction(async (sql) => {
      // The bank first, as a consolidation request takes it, then the memory and its co-sources.
      if (!(await lockBankForConsolidation(sql, bankId))) throw bankNotFound(bankId);
      const type = await lockMemoryType(sql, bankId, memoryId);
      if (!type) throw memoryNotFound(memoryId);
      if (type === 'observation') {
        throw new MemoryException(
          MemoryErrorCode.InvalidInput,
          `'${memoryId}' is an observation; give the id of a world or experience memory`,
          'memory_id',
        );
      }
      const { deleted, sources } = await deleteObservationsBuiltOn(sql, bankId, memoryId);
      await requeueForConsolidation(sql, bankId, sources);
      const queued = await enqueueConsolidation(sql, this.operations, bankId, ['pending']);
      if (!queued.deduplicated) sql.afterCommit(() => this.worker.notify());
      return deleted;
    });
  }

  /**
   * How an observation came to read as it does: one entry per change, oldest first, each with
   * what it said before and the sources it had after, resolved to their text (`is_new` marks those
   * the change added), as Hindsight reconstructs it. A memory that is not an observation has none.
   */
  async observationHistory(bankId: string, memoryId: string): Promise<ObservationChange[]> {
    if (!isUuid(memoryId)) {
      throw new MemoryException(MemoryErrorCode.InvalidInput, `Invalid memory_id: '${memoryId}' is not a valid UUID`, 'memory_id');
    }
    await this.banks.assertExists(bankId);
    return this.database.withConnection(async (sql) => {
      const observation = await findObservation(sql, bankId, memoryId);
      if (!observation) throw memoryNotFound(memoryId);
      if (observation.fact_type !== 'observation') return [];
      const changes = await observationChanges(sql, bankId, memoryId);
      if (changes.length === 0) return [];
      const current = observation.source_memory_ids ?? [];
      const everySource = [...new Set([...current, ...changes.flatMap((change) => change.new_source_memory_ids)])];
      const facts = new Map((await sourceFacts(sql, bankId, everySource)).map((fact) => [fact.id, fact]));
      // Sources only accumulate, so walking back from the current set and dropping what each
      // change added gives the set every change left behind.
      let after = [...current];
      const entries: ObservationChange[] = [];
      for (const change of [...changes].reverse()) {
        const added = new Set(change.new_source_memory_ids);
        entries.push({
          previousText: change.previous_text,
          previousTags: change.previous_tags,
          previousOccurredStart: change.previous_occurred_start,
          previousOccurredEnd: change.previous_occurred_end,
          previousMentionedAt: change.previous_mentioned_at,
          changedAt: change.changed_at,
          newSourceMemoryIds: change.new_source_memory_ids,
          sourceFacts: after.map((id) => {
            const fact = facts.get(id);
            return { id, text: fact?.text ?? null, type: fact?.fact_type ?? null, context: fact?.context || null, isNew: added.has(id) };
          }),
        });
        after = after.filter((id) => !added.has(id));
      }
      return entries.reverse();
    });
  }

  /**
   * What retain would extract from the content, with nothing stored: the bank is checked in a
   * short scope that is released before the LLM (if any) is called.
   */
  async dryRunExtract(bankId: string, input: ExtractionInput, signal?: AbortSignal): Promise<ExtractedFact[]> {
    await this.banks.assertExists(bankId);
    if (!this.ai.llm) return extractFactsBySentence(input);
    return extractFactsWithLlm(this.ai.llm, input, signal, { bankId, traceId: randomUUID() }).catch((error: unknown) => {
      throw fromExternalFailure(error);
    });
  }

  /** A bank that does not exist has no memories: an empty page, as Hindsight answers every list. */
  async list(bankId: string, filter: MemoryListFilter): Promise<Page<MemoryRecord>> {
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

  async listDocuments(bankId: string, filter: DocumentListFilter): Promise<Page<DocumentRecord>> {
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
    editedAt: row.edited_at ?? null,
    invalidatedAt: row.invalidated_at ?? null,
    invalidationReason: row.invalidation_reason ?? null,
    consolidatedAt: row.consolidated_at ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function documentNotFound(): MemoryException {
  return new MemoryException(MemoryErrorCode.DocumentNotFound, 'Document not found');
}

function memoryNotFound(memoryId: string): MemoryException {
  return new MemoryException(MemoryErrorCode.MemoryNotFound, `Memory unit '${memoryId}' not found`);
}
