import { Inject, Injectable } from '@nestjs/common';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import type { RecallOutcome, RecallRequest } from '../recall/recall.types.js';
import { type IncludeRequest, type RecallIncludes, loadRecallIncludes } from '../recall/recall-includes.js';
import { RetainService } from '../retain/retain.service.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { type ChunkRow, documentChunksPage, documentExists, findChunk, findReprocessSource, isChunkId } from './chunks.queries.js';

export interface ChunkRecord {
  id: string;
  bankId: string;
  documentId: string;
  index: number;
  text: string;
  createdAt: Date;
}

/** A document's stored chunks, reprocessing it from its stored text, and the chunks and sources recall attaches. */
@Injectable()
export class DocumentChunksService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(RetainService) private readonly retainer: RetainService,
  ) {}

  async listChunks(
    bankId: string,
    documentId: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: ChunkRecord[]; total: number; limit: number; offset: number }> {
    const found = await this.database.withConnection(async (sql) => {
      if (!(await documentExists(sql, bankId, documentId))) return null;
      return documentChunksPage(sql, bankId, documentId, page);
    });
    if (!found) throw documentNotFound();
    return { items: found.rows.map(toChunk), total: found.total, ...page };
  }

  async getChunk(chunkId: string): Promise<ChunkRecord> {
    const row = isChunkId(chunkId) ? await this.database.withConnection((sql) => findChunk(sql, chunkId)) : undefined;
    if (!row) throw new MemoryException(MemoryErrorCode.ChunkNotFound, `Chunk '${chunkId}' not found`);
    return toChunk(row);
  }

  /**
   * Queues a retain of the document's stored text, which replaces its memories and chunks as a
   * retain of the same document id does: the extraction, chunk size and entity rules of today
   * apply. What the text was retained with and the document does not keep (context, timestamp,
   * observation scopes) is taken from its memories.
   */
  async reprocess(bankId: string, documentId: string): Promise<{ operationId: string; itemsCount: number }> {
    const source = await this.database.withConnection((sql) => findReprocessSource(sql, bankId, documentId));
    if (!source) throw documentNotFound();
    if (source.original_text === null || !source.original_text.trim()) {
      throw new MemoryException(MemoryErrorCode.Conflict, `Document '${documentId}' has no stored text to reprocess`);
    }
    const outcome = await this.retainer
      .retain(bankId, {
        async: true,
        items: [
          {
            content: source.original_text,
            documentId,
            tags: source.tags,
            metadata: source.metadata,
            context: source.context,
            timestamp: source.mentioned_at,
            observationScopes: (source.observation_scopes ?? null) as never,
          },
        ],
      })
      .catch((error: unknown) => {
        // The request has no items: what retain refuses is the stored document, which cannot change to suit it.
        if (error instanceof MemoryException && error.code === MemoryErrorCode.InvalidInput) {
          throw new MemoryException(MemoryErrorCode.Conflict, `Document '${documentId}' cannot be reprocessed: ${error.message}`);
        }
        throw error;
      });
    return { operationId: outcome.operationId!, itemsCount: outcome.itemsCount };
  }

  /** The chunk of each result, and what `include` asked for; its own short scope, after recall's. */
  recallIncludes(request: RecallRequest, outcome: RecallOutcome, include: IncludeRequest): Promise<RecallIncludes> {
    return loadRecallIncludes(this.database, request, outcome, include);
  }
}

function toChunk(row: ChunkRow): ChunkRecord {
  return {
    id: row.id,
    bankId: row.bank_id,
    documentId: row.document_id,
    index: row.chunk_index,
    text: row.chunk_text,
    createdAt: row.created_at,
  };
}

function documentNotFound(): MemoryException {
  return new MemoryException(MemoryErrorCode.DocumentNotFound, 'Document not found');
}
