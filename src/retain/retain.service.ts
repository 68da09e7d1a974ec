import { Inject, Injectable, Logger } from '@nestjs/common';
import { AiClients } from '../external/ai-clients.js';
import { ensureBank } from '../banks/banks.queries.js';
import { MEMORY_OPTIONS, MEMORY_VECTOR_BACKEND } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import type { ClaimedOperation } from '../operations/operation.types.js';
import { OperationsService } from '../operations/operations.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import {
  entitiesLinkedToDocuments,
  linkNewMemories,
  reclaimOrphanEntities,
  resolveMentionedEntities,
} from '../entities/entities.queries.js';
import { deleteDocumentsMemories } from '../consolidation/source-changes.queries.js';
import { type ObservationScopesSpec, parseScopesSpec } from '../consolidation/observation-scopes.js';
import { MemoryDatabase, type Sql, isRetryableConflict } from '../storage/memory-database.js';
import { assertStorableInstant } from '../storage/storable-instant.js';
import { stripUnstorable } from '../storage/storable-text.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { DEFAULT_CHUNK_SIZE, splitIntoChunks } from '../documents/chunking.js';
import { type NewChunk, configuredChunkSize, deleteDocumentsChunks, insertChunks } from '../documents/chunks.queries.js';
import { randomUUID } from 'node:crypto';
import { isUuid } from '../storage/uuid.js';
import { cl100kStorageCounter, memoryTokens } from '../recall/token-counter.js';
import type { LlmCallContext } from '../external/llm-client.js';
import { type ExtractedFact, type ExtractionInput, extractFactsBySentence, extractFactsWithLlm } from './fact-extraction.js';
import {
  type AppendBaseRow,
  type NewMemoryUnit,
  insertMemoryUnits,
  lockDocumentsForAppend,
  readAppendBases,
  upsertDocuments,
} from './retain.queries.js';
import { attributeKey } from '../supersession/attribute-key.js';
import { ENTITY_NAME_MAX_LENGTH } from '../entities/entity-names.js';
import { KnownEntityIds } from '../entities/known-entity-ids.js';
import { recomputeSupersession } from '../supersession/supersession.queries.js';
import { type RetainItem, type RetainOutcome, type RetainRequest, UPDATE_MODES } from './retain.types.js';

interface PreparedItem {
  item: RetainItem;
  tags: string[];
  /** Checked; `null` is the default (`combined`). */
  scopes: ObservationScopesSpec | null;
  /** The item's content as stored: cut at the bank's `retain_chunk_size`, each chunk extracted on its own. */
  chunks: string[];
  /** `chunk` is the index, in `chunks`, of the chunk the fact was extracted from. */
  /** `tokens`: what the fact costs recall's budget (`memoryTokens`), counted here, before any connection is held. */
  facts: Array<ExtractedFact & { embedding: number[]; chunk: number; tokens: number }>;
}

/** An append's extraction, and the content hash under the lock each appended document must still have. */
interface PreparedRetain {
  items: PreparedItem[];
  /** Document id to the hash its text had when read; `null`: it had no text (or did not exist). */
  appendBases: Map<string, string | null>;
}

const MAX_WRITE_ATTEMPTS = 3;

/**
 * An append found its document's text changed by another writer since it read it: its extraction
 * describes a text that would drop the other writer's part, so it is redone on the new text.
 * Every round has a winner (the first writer to take the lock), so a handful of appends arriving
 * together all get through well within this bound.
 */
const MAX_APPEND_ROUNDS = 8;

class AppendBaseMoved extends Error {
  constructor(readonly documentId: string) {
    super(`document '${documentId}' changed while an append to it was being extracted`);
  }
}

/**
 * Ingests content: splits it into facts, finds entities, embeds, and writes it all in one short
 * transaction.
 *
 * The slow part (LLM extraction and embedding) runs first with no connection held; only then
 * does a transaction open, so a slow provider never holds a pooled connection (docs/ARCHITECTURE.md, "Invariant 1").
 * A `document_id` seen before is replaced inside that transaction: the document row is locked
 * first, so concurrent retains of one document serialise and exactly one copy remains. An append
 * reads the stored text before extracting and, under that lock, checks it is still the text it
 * read; if another writer changed it, the append is extracted again on the new text.
 */
@Injectable()
export class RetainService {
  private readonly logger = new Logger(RetainService.name);

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MEMORY_VECTOR_BACKEND) private readonly vectors: VectorBackend,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(MemoryMetrics) private readonly metrics: MemoryMetrics,
    @Inject(WebhooksService) private readonly webhooks: WebhooksService,
    @Inject(KnownEntityIds) private readonly knownEntities: KnownEntityIds,
  ) {
    worker.register('retain', (operation, signal) => this.runQueued(operation, signal));
  }

  async retain(bankId: string, request: RetainRequest, signal?: AbortSignal): Promise<RetainOutcome> {
    request = withStorableText(request);
    this.validate(bankId, request);
    if (request.async) return this.enqueue(bankId, request);
    this.metrics.retainRequests.inc({ mode: 'sync' });
    const memoryIds = await this.ingest(bankId, request, signal, (sql) => this.announce(sql, bankId, null, request));
    this.metrics.retainedMemories.inc({ mode: 'sync' }, memoryIds.length);
    return { bankId, itemsCount: request.items.length, async: false, memoryIds, usage: NO_USAGE };
  }

  private async enqueue(bankId: string, request: RetainRequest): Promise<RetainOutcome> {
    const { operationId, deduplicated } = await this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      const payload = { request: serialise(request), items_count: request.items.length };
      if (request.operationId) return this.operations.enqueueOnce(sql, bankId, 'retain', payload, request.operationId);
      return { operationId: await this.operations.enqueue(sql, bankId, 'retain', payload), deduplicated: false };
    });
    if (deduplicated) {
      this.logger.log(`Async retain ${operationId} of bank ${bankId} submitted again; nothing new queued`);
      return { bankId, itemsCount: request.items.length, async: true, operationId, memoryIds: [], usage: NO_USAGE };
    }
    this.metrics.retainRequests.inc({ mode: 'async' });
    this.worker.notify();
    return { bankId, itemsCount: request.items.length, async: true, operationId, memoryIds: [], usage: NO_USAGE };
  }

  /**
   * Queues one async retain per request in a single transaction, so that the documents of one
   * upload are queued together or not at all. `labels` (one per request, optional) are kept in the
   * operation's payload beside the request, to say where it came from (a file's name).
   */
  async enqueueEach(bankId: string, requests: RetainRequest[], labels: Array<Record<string, unknown>> = []): Promise<string[]> {
    const checked = requests.map((request) => withStorableText({ ...request, async: true, operationId: null }));
    checked.forEach((request) => this.validate(bankId, request));
    const operationIds = await this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      const ids: string[] = [];
      for (const [index, request] of checked.entries()) {
        const payload = { ...labels[index], request: serialise(request), items_count: request.items.length };
        ids.push(await this.operations.enqueue(sql, bankId, 'retain', payload));
      }
      return ids;
    });
    this.metrics.retainRequests.inc({ mode: 'async' }, checked.length);
    this.worker.notify();
    return operationIds;
  }

  private async runQueued(operation: ClaimedOperation, signal: AbortSignal): Promise<void> {
    const request = deserialise(operation.payload.request as SerialisedRequest);
    const memoryIds = await this.ingest(
      operation.bankId,
      request,
      signal,
      async (sql, ids) => {
        await this.operations.complete(sql, operation, { items_count: request.items.length, memory_ids: ids });
        await this.announce(sql, operation.bankId, operation.id, request);
      },
      (sql) => this.operations.assertLeaseHeld(sql, operation),
    );
    this.metrics.retainedMemories.inc({ mode: 'async' }, memoryIds.length);
  }

  /**
   * Phase 1 (no connection): extract and embed. Phase 2 (one transaction): write. A queued
   * retain passes `fence` and `onWritten`, so the write and the operation's completion commit
   * together, and only while this instance still holds the operation's lease.
   */
  private async ingest(
    bankId: string,
    request: RetainRequest,
    signal?: AbortSignal,
    onWritten?: (sql: Sql, memoryIds: string[]) => Promise<void>,
    fence?: (sql: Sql) => Promise<void>,
  ): Promise<string[]> {
    for (let round = 1; ; round += 1) {
      const prepared = await this.prepare(bankId, request, signal).catch((error: unknown) => {
        throw fromExternalFailure(error);
      });
      signal?.throwIfAborted();
      try {
        return await this.writeWithRetries(bankId, prepared, onWritten, fence);
      } catch (error) {
        if (!(error instanceof AppendBaseMoved)) throw error;
        if (round >= MAX_APPEND_ROUNDS) {
          throw new MemoryException(
            MemoryErrorCode.Conflict,
            `Document '${error.documentId}' kept changing while this append was being processed; nothing was written, retry it`,
            undefined,
            true,
          );
        }
        this.logger.log(`Append to document '${error.documentId}' of bank ${bankId} lost its race; redoing it on the newer text`);
      }
    }
  }

  private async writeWithRetries(
    bankId: string,
    prepared: PreparedRetain,
    onWritten?: (sql: Sql, memoryIds: string[]) => Promise<void>,
    fence?: (sql: Sql) => Promise<void>,
  ): Promise<string[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.database.transaction(async (sql) => {
          await fence?.(sql);
          const ids = await this.write(sql, bankId, prepared);
          await onWritten?.(sql, ids);
          return ids;
        });
      } catch (error) {
        if (attempt >= MAX_WRITE_ATTEMPTS || !isRetryableConflict(error)) throw error;
        this.logger.warn(`Retain write hit a serialisation failure or deadlock; retrying, attempt ${attempt + 1}`);
      }
    }
  }

  /** The `retain.completed` outbox row, in the retain's own write transaction. */
  private async announce(sql: Sql, bankId: string, operationId: string | null, request: RetainRequest): Promise<void> {
    await this.webhooks.announceRetain(sql, bankId, operationId, request.items);
  }

  private async prepare(bankId: string, request: RetainRequest, signal?: AbortSignal): Promise<PreparedRetain> {
    const appended = appendedDocuments(request);
    // A short read of its own, before any external call holds the request up.
    const { chunkSize, bases } = await this.database.withConnection(async (sql) => ({
      chunkSize: (await configuredChunkSize(sql, bankId)) ?? DEFAULT_CHUNK_SIZE,
      bases: appended.length > 0 ? await readAppendBases(sql, bankId, appended) : [],
    }));
    const appendBases = new Map<string, string | null>(appended.map((id) => [id, null]));
    // One trace for the whole request: every extraction call of this retain shares it.
    const traceId = randomUUID();
    for (const base of bases) appendBases.set(base.id, base.content_hash);
    const extracted = await Promise.all(
      withAppendBases(request.items, bases).map(async (item) => {
        const tags = itemTags(item, request);
        const chunks = splitIntoChunks(item.content, chunkSize);
        const perChunk = await Promise.all(
          chunks.map(async (content, chunk) =>
            (
              await this.extract(toExtractionInput({ ...item, content }), signal, {
                bankId,
                documentId: item.documentId ?? undefined,
                traceId,
              })
            ).map((fact) => ({ ...fact, chunk })),
          ),
        );
        return { item, tags, scopes: checkedScopes(item, tags), chunks, facts: perChunk.flat() };
      }),
    );
    const texts = extracted.flatMap(({ facts }) => facts.map((fact) => fact.text));
    const embeddings = texts.length ? await this.ai.embedder.embed(texts, signal) : [];
    const counter = await cl100kStorageCounter();
    let next = 0;
    const items = extracted.map(({ item, tags, scopes, chunks, facts }) => ({
      item,
      tags,
      scopes,
      chunks,
      facts: facts.map((fact) => ({
        ...fact,
        embedding: embeddings[next++],
        tokens: memoryTokens(counter, { text: fact.text, context: item.context ?? null }),
      })),
    }));
    return { items, appendBases };
  }

  private extract(input: ExtractionInput, signal?: AbortSignal, context?: LlmCallContext): Promise<ExtractedFact[]> | ExtractedFact[] {
    return this.ai.llm ? extractFactsWithLlm(this.ai.llm, input, signal, context) : extractFactsBySentence(input);
  }

  /**
   * Facts, entities and links are each written with one multi-row statement (per chunk) for the
   * whole request: statements per fact made a request's round trips, and so the time its
   * transaction held a connection, grow with its size.
   */
  private async write(sql: Sql, bankId: string, { items: prepared, appendBases }: PreparedRetain): Promise<string[]> {
    await ensureBank(sql, bankId);
    if (appendBases.size > 0) await this.assertAppendBases(sql, bankId, prepared, appendBases);
    const replacedEntityIds = await this.replaceDocuments(sql, bankId, prepared);
    const chunkIds = await this.writeChunks(sql, bankId, prepared);
    const facts = prepared.flatMap(({ facts: itemFacts }, itemIndex) => itemFacts.map((fact) => ({ fact, itemIndex })));
    const mentioned = await resolveMentionedEntities(
      sql,
      bankId,
      facts.map(({ fact }) => fact.entities),
      this.knownEntities,
    );
    const units: NewMemoryUnit[] = facts.map(({ fact, itemIndex }, index) => {
      const { item, tags, scopes } = prepared[itemIndex];
      return {
        documentId: item.documentId ?? null,
        chunkId: chunkIds[itemIndex]?.[fact.chunk] ?? null,
        text: fact.text,
        context: item.context ?? null,
        factType: fact.factType,
        occurredStart: fact.occurredStart,
        occurredEnd: fact.occurredEnd,
        mentionedAt: item.timestamp ?? null,
        metadata: item.metadata ?? {},
        tags,
        embedding: fact.embedding,
        observationScopes: scopes,
        attributeKey: attributeKeyOf(fact),
        tokens: fact.tokens,
        entityIds: mentioned.perMemory[index],
      };
    });
    const memoryIds = await insertMemoryUnits(sql, this.vectors, bankId, units);
    await linkNewMemories(sql, bankId, memoryIds, mentioned);
    // The linked entities' counts grew with their links; only the entities of replaced memories,
    // which lost links and may have lost all, are recounted.
    await reclaimOrphanEntities(sql, [...new Set(replacedEntityIds)]);
    await recomputeSupersession(
      sql,
      bankId,
      units.flatMap((unit) => (unit.attributeKey ? [unit.attributeKey] : [])),
    );
    return memoryIds;
  }

  /**
   * Stores the chunks of the items that belong to a document (only a document has stored text for
   * a chunk to quote), numbered across the document's items in request order. Returns each item's
   * chunk ids, `null` for an item with no document.
   */
  private async writeChunks(sql: Sql, bankId: string, prepared: PreparedItem[]): Promise<Array<string[] | null>> {
    const nextIndex = new Map<string, number>();
    const rows: NewChunk[] = [];
    const ids = prepared.map(({ item, chunks }) => {
      const documentId = item.documentId;
      if (!documentId) return null;
      const first = nextIndex.get(documentId) ?? 0;
      nextIndex.set(documentId, first + chunks.length);
      return chunks.map((text, offset) => {
        const id = randomUUID();
        rows.push({ id, documentId, index: first + offset, text });
        return id;
      });
    });
    await insertChunks(sql, bankId, rows);
    return ids;
  }

  /**
   * Under the document locks, before anything is written: each appended document must still have
   * the text the extraction was built on, or the write would drop what another writer appended
   * meanwhile. All the request's documents are locked, in the order `replaceDocuments` writes them.
   */
  private async assertAppendBases(sql: Sql, bankId: string, prepared: PreparedItem[], expected: Map<string, string | null>): Promise<void> {
    const documentIds = [...new Set(prepared.flatMap(({ item }) => (item.documentId ? [item.documentId] : [])))].sort(byCodeUnits);
    const current = await lockDocumentsForAppend(sql, bankId, documentIds);
    for (const [documentId, hash] of expected) {
      if ((current.get(documentId) ?? null) !== hash) throw new AppendBaseMoved(documentId);
    }
  }

  /**
   * Locks the document rows (in id order, one lock order for every writer), records their new
   * text, and deletes the memories of their previous versions. Returns the entities those
   * memories were linked to, which may now be orphans.
   */
  private async replaceDocuments(sql: Sql, bankId: string, prepared: PreparedItem[]): Promise<string[]> {
    const documents = new Map<string, PreparedItem[]>();
    for (const entry of prepared) {
      const id = entry.item.documentId;
      if (id) documents.set(id, [...(documents.get(id) ?? []), entry]);
    }
    if (documents.size === 0) return [];
    const sorted = [...documents.entries()].sort(([a], [b]) => byCodeUnits(a, b));
    await upsertDocuments(
      sql,
      bankId,
      sorted.map(([documentId, entries]) => ({
        documentId,
        originalText: entries.map((entry) => entry.item.content).join('\n\n'),
        metadata: entries[0].item.metadata ?? {},
        tags: uniqueTags(entries.flatMap((e) => e.tags)),
      })),
    );
    const documentIds = sorted.map(([documentId]) => documentId);
    const touchedEntities = await entitiesLinkedToDocuments(sql, bankId, documentIds);
    await deleteDocumentsMemories(sql, bankId, documentIds);
    await deleteDocumentsChunks(sql, bankId, documentIds);
    return touchedEntities;
  }

  private validate(bankId: string, request: RetainRequest): void {
    const { maxItems, maxContentChars } = this.options.retain;
    const { maxDocumentIdLength } = this.options.limits;
    if (!bankId.trim()) throw invalid('bank_id cannot be empty', 'bank_id');
    if (request.items.length === 0) throw invalid('items cannot be empty', 'items');
    if (request.items.length > maxItems) throw invalid(`at most ${maxItems} items per request`, 'items');
    if (request.operationId != null && !isUuid(request.operationId)) throw invalid('operation_id must be a UUID', 'operation_id');
    request.items.forEach((item, index) => {
      if (!item.content?.trim()) throw invalid('content cannot be empty', `items.${index}.content`);
      if (item.content.length > maxContentChars) {
        throw invalid(`content is longer than ${maxContentChars} characters`, `items.${index}.content`);
      }
      if (item.updateMode != null && !(UPDATE_MODES as readonly string[]).includes(item.updateMode)) {
        throw invalid(`update_mode must be one of ${UPDATE_MODES.join(', ')}`, `items.${index}.update_mode`);
      }
      assertStorableInstant(item.timestamp, `items.${index}.timestamp`);
      if (item.documentId != null && item.documentId.length > maxDocumentIdLength) {
        throw invalid(`document_id must be at most ${maxDocumentIdLength} characters long`, `items.${index}.document_id`);
      }
      item.entities?.forEach((entity, entityIndex) => {
        if (entity.text.length > ENTITY_NAME_MAX_LENGTH) {
          throw invalid(`text must be at most ${ENTITY_NAME_MAX_LENGTH} characters long`, `items.${index}.entities.${entityIndex}.text`);
        }
      });
      if (item.updateMode === 'append' && !item.documentId) {
        throw invalid("update_mode 'append' needs a document_id: there is no stored text to append to", `items.${index}.update_mode`);
      }
      const scopes = parseScopesSpec(item.observationScopes, itemTags(item, request));
      if ('error' in scopes) throw invalid(`observation_scopes ${scopes.error}`, `items.${index}.observation_scopes`);
    });
  }
}

const NO_USAGE = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };

function invalid(message: string, field: string): MemoryException {
  return new MemoryException(MemoryErrorCode.InvalidInput, message, field);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The documents the request appends to, each once. */
function appendedDocuments(request: RetainRequest): string[] {
  return [...new Set(request.items.flatMap((item) => (item.updateMode === 'append' && item.documentId ? [item.documentId] : [])))];
}

/**
 * The items with each appended document's stored text put back in front of its first new item,
 * so the document is stored and extracted whole. As in Hindsight, the old text takes the new
 * item's tags, metadata and observation scopes (a document has one tag set); it keeps the
 * context and time its memories were retained with, which the new item knows nothing about.
 */
function withAppendBases(items: RetainItem[], bases: AppendBaseRow[]): RetainItem[] {
  const pending = new Map(bases.filter((base) => base.original_text?.trim()).map((base) => [base.id, base]));
  return items.flatMap((item) => {
    const base = item.updateMode === 'append' && item.documentId ? pending.get(item.documentId) : undefined;
    if (!base) return [item];
    pending.delete(base.id);
    const stored: RetainItem = {
      content: base.original_text!,
      documentId: base.id,
      context: base.context ?? item.context,
      timestamp: base.mentioned_at ?? item.timestamp,
      tags: item.tags,
      metadata: item.metadata,
      observationScopes: item.observationScopes,
    };
    return [stored, item];
  });
}

function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))];
}

/**
 * Retained content and context are free text the caller often cannot clean (transcripts, tool
 * output): the characters the database cannot hold are dropped rather than the item refused,
 * as the HTTP edge does.
 */
function withStorableText(request: RetainRequest): RetainRequest {
  return {
    ...request,
    items: request.items.map((item) => ({
      ...item,
      content: typeof item.content === 'string' ? stripUnstorable(item.content) : item.content,
      context: typeof item.context === 'string' ? stripUnstorable(item.context) : item.context,
    })),
  };
}

function attributeKeyOf(fact: ExtractedFact): string | null {
  return attributeKey(fact.text, fact.subject);
}

function itemTags(item: RetainItem, request: RetainRequest): string[] {
  return uniqueTags([...(item.tags ?? []), ...(request.documentTags ?? [])]);
}

/** Already validated by `validate`; parsed again here for its stored form. */
function checkedScopes(item: RetainItem, tags: string[]): ObservationScopesSpec | null {
  const parsed = parseScopesSpec(item.observationScopes, tags);
  return 'spec' in parsed ? parsed.spec : null;
}

function toExtractionInput(item: RetainItem): ExtractionInput {
  return {
    content: item.content,
    context: item.context ?? null,
    timestamp: item.timestamp === undefined ? new Date() : item.timestamp,
    entities: (item.entities ?? []).map((entity) => ({ name: entity.text, type: entity.type ?? null })),
  };
}

type SerialisedRequest = Omit<RetainRequest, 'items'> & { items: Array<Omit<RetainItem, 'timestamp'> & { timestamp?: string | null }> };

/** Queued payloads are JSON: a `timestamp` of `undefined` ("now") is fixed at enqueue time. */
function serialise(request: RetainRequest): SerialisedRequest {
  return {
    documentTags: request.documentTags ?? null,
    items: request.items.map((item) => ({
      ...item,
      timestamp: item.timestamp === undefined ? new Date().toISOString() : (item.timestamp?.toISOString() ?? null),
    })),
  };
}

function deserialise(payload: SerialisedRequest): RetainRequest {
  return {
    documentTags: payload.documentTags,
    items: payload.items.map((item) => ({ ...item, timestamp: item.timestamp ? new Date(item.timestamp) : null })),
  };
}
