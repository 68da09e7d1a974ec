import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Zip, ZipDeflate, strToU8 } from 'fflate';
import yauzl from 'yauzl';
import { ensureBank } from '../banks/banks.queries.js';
import { BanksService } from '../banks/banks.service.js';
import { parseScopesSpec } from '../consolidation/observation-scopes.js';
import { deleteDocumentsMemories } from '../consolidation/source-changes.queries.js';
import { type NewChunk, deleteDocumentsChunks, insertChunks } from '../documents/chunks.queries.js';
import {
  entitiesLinkedToDocuments,
  linkNewMemories,
  reclaimOrphanEntities,
  resolveMentionedEntities,
} from '../entities/entities.queries.js';
import { mergeEntities } from '../entities/entity-names.js';
import { KnownEntityIds } from '../entities/known-entity-ids.js';
import { AiClients } from '../external/ai-clients.js';
import { MEMORY_OPTIONS, MEMORY_VECTOR_BACKEND } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import type { InputLimits, ResolvedMemoryOptions } from '../memory.options.js';
import type { ClaimedOperation } from '../operations/operation.types.js';
import { OperationsService } from '../operations/operations.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import { type NewMemoryUnit, insertMemoryUnits, upsertDocuments } from '../retain/retain.queries.js';
import { cl100kStorageCounter, memoryTokens } from '../recall/token-counter.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import { unstorableReason } from '../storage/storable-text.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import { keptAttributeKey } from '../supersession/attribute-key.js';
import { recomputeSupersession } from '../supersession/supersession.queries.js';
import {
  type ExportFactRow,
  completeStoredFile,
  createStoredFile,
  deleteStoredFile,
  documentExists,
  existingLooseFacts,
  exportChunks,
  exportDocumentFacts,
  exportDocumentPage,
  exportLooseFactPage,
  findCompleteStoredFile,
  insertFilePart,
  readFileParts,
} from './document-transfer.queries.js';
import {
  LOOSE_FACTS_PER_ENTRY,
  MANIFEST_ENTRY,
  TRANSFER_SCHEMA_VERSION,
  type TransferDocument,
  type TransferFact,
  type TransferManifest,
  documentEntryName,
  looseEntryName,
  looseFactsSchema,
  transferDocumentSchema,
  transferManifestSchema,
} from './transfer-archive.js';

export const ON_CONFLICT_MODES = ['skip', 'replace', 'new-id'] as const;
export type OnConflict = (typeof ON_CONFLICT_MODES)[number];

export const EXPORT_OPERATION = 'document_export';
export const IMPORT_OPERATION = 'document_import';

/** Bytes of one stored part: small enough for one statement, large enough to keep them few. */
const PART_BYTES = 1024 * 1024;
/** Documents read per page while exporting: what the export holds in memory at once. */
const DOCUMENTS_PER_PAGE = 100;
/** Parts read per statement while downloading or loading an uploaded archive. */
const PARTS_PER_READ = 8;
/**
 * Ids listed in an import's result (skipped, remapped): the counts are exact, the lists stop here,
 * since the checkpoint carrying them is written at every document.
 */
const LISTED_IDS = 1000;
/** How long an exported archive stays downloadable. */
const EXPORT_TTL_MS = 7 * 24 * 3600_000;
/** An uploaded archive is deleted when its import completes; this bounds one whose import never does. */
const IMPORT_TTL_MS = 7 * 24 * 3600_000;

export interface StoredFileDownload {
  filename: string;
  contentType: string;
  byteSize: number;
  /** The file's bytes, a few parts at a time, each read in a short scope of its own. */
  parts: AsyncIterable<Buffer>;
}

/** A fact to import with what retain would have computed for it. */
interface EmbeddedFact {
  embedding: number[];
  tokens: number;
}

interface ImportProgress {
  /** Entries of the archive, in its order, that committed already. */
  next_entry: number;
  counts: ImportCounts;
}

export interface ImportCounts {
  documents_imported: number;
  documents_skipped: number;
  facts_imported: number;
  loose_facts_imported: number;
  loose_facts_skipped: number;
  skipped_document_ids: string[];
  remapped_document_ids: Record<string, string>;
}

class InvalidArchiveError extends MemoryException {
  constructor(reason: string) {
    super(MemoryErrorCode.InvalidInput, `file is not a transfer archive this server can import: ${reason}`, 'file');
  }
}

/**
 * Document transfer (docs/ARCHITECTURE.md, "Document transfer"): Hindsight's archive of documents
 * with their chunks and extracted memories, exported and imported as background operations.
 *
 * Export writes the archive entry by entry into parts in the database, a page of documents at a
 * time, so neither the bank nor the archive is ever held whole. Import embeds each document's
 * memories with no connection held, then writes the document in one transaction: a document is
 * imported whole or not at all, and importing an archive again changes nothing (`skip`) or the
 * same documents again (`replace`).
 */
@Injectable()
export class DocumentTransferService {
  private readonly logger = new Logger(DocumentTransferService.name);

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MEMORY_VECTOR_BACKEND) private readonly vectors: VectorBackend,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(BanksService) private readonly banks: BanksService,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(KnownEntityIds) private readonly knownEntities: KnownEntityIds,
  ) {
    worker.register(EXPORT_OPERATION, (operation, signal) => this.runExport(operation, signal));
    worker.register(IMPORT_OPERATION, (operation, signal) => this.runImport(operation, signal));
  }

  async submitExport(bankId: string, documentIds: string[] | null, includeObservations: boolean): Promise<string> {
    if (includeObservations) {
      throw new MemoryException(
        MemoryErrorCode.InvalidInput,
        'include_observations is not supported: observations are not carried, the target bank consolidates the imported memories itself',
        'include_observations',
      );
    }
    await this.banks.assertExists(bankId);
    const operationId = await this.database.transaction((sql) =>
      this.operations.enqueue(sql, bankId, EXPORT_OPERATION, { document_ids: documentIds }),
    );
    this.worker.notify();
    return operationId;
  }

  /**
   * Checks the archive before anything is queued (a file that is no archive is refused at once,
   * naming `file`), then stores it and queues its import in one transaction.
   */
  async submitImport(bankId: string, archive: Buffer, onConflict: OnConflict): Promise<string> {
    const manifest = await checkArchive(archive, this.options.limits);
    const key = randomUUID();
    const operationId = await this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      await createStoredFile(sql, {
        bankId,
        key,
        purpose: 'import',
        filename: `${key}.zip`,
        contentType: 'application/zip',
        expiresAt: new Date(Date.now() + IMPORT_TTL_MS),
      });
      for (let seq = 0; seq * PART_BYTES < archive.length; seq += 1) {
        await insertFilePart(sql, bankId, key, seq, archive.subarray(seq * PART_BYTES, (seq + 1) * PART_BYTES));
      }
      await completeStoredFile(sql, bankId, key, archive.length);
      return this.operations.enqueue(sql, bankId, IMPORT_OPERATION, {
        storage_key: key,
        on_conflict: onConflict,
        source_bank_id: manifest.source_bank_id,
        document_count: manifest.document_count,
      });
    });
    this.worker.notify();
    return operationId;
  }

  /** `null` for a key that names no finished, unexpired file. */
  async download(key: string): Promise<StoredFileDownload | null> {
    const file = await this.database.withConnection((sql) => findCompleteStoredFile(sql, key));
    if (!file) return null;
    return {
      filename: file.filename,
      contentType: file.content_type,
      byteSize: Number(file.byte_size),
      parts: this.readParts(file.bank_id, key),
    };
  }

  private async *readParts(bankId: string, key: string): AsyncIterable<Buffer> {
    for (let seq = 0; ;) {
      const parts = await this.database.withConnection((sql) => readFileParts(sql, bankId, key, seq, PARTS_PER_READ));
      yield* parts;
      if (parts.length < PARTS_PER_READ) return;
      seq += parts.length;
    }
  }

  private async runExport(operation: ClaimedOperation, signal: AbortSignal): Promise<void> {
    const { bankId } = operation;
    const onlyIds = (operation.payload.document_ids as string[] | null | undefined) ?? null;
    const key = randomUUID();
    const filename = `${bankId}-documents-${new Date().toISOString().slice(0, 10)}.zip`;
    await this.database.transaction(async (sql) => {
      await this.operations.assertLeaseHeld(sql, operation);
      await createStoredFile(sql, {
        bankId,
        key,
        purpose: 'export',
        filename,
        contentType: 'application/zip',
        expiresAt: new Date(Date.now() + EXPORT_TTL_MS),
      });
    });
    const parts = new PartWriter((seq, bytes) =>
      this.database.transaction(async (sql) => {
        await this.operations.assertLeaseHeld(sql, operation);
        await insertFilePart(sql, bankId, key, seq, bytes);
      }),
    );
    try {
      const counts = await this.writeArchive(bankId, onlyIds, parts, signal);
      await parts.close();
      await this.database.transaction(async (sql) => {
        await this.operations.assertLeaseHeld(sql, operation);
        await completeStoredFile(sql, bankId, key, parts.byteSize);
        await this.operations.complete(sql, operation, {
          download_url: `/v1/default/files/download/${key}`,
          storage_key: key,
          byte_size: parts.byteSize,
          filename,
          ...counts,
        });
      });
      this.logger.log(`Exported ${counts.document_count} document(s) of bank ${bankId}: ${parts.byteSize} bytes`);
    } catch (error) {
      // A half-written archive is never downloadable (no size); deleting it frees its parts now.
      await this.database.withConnection((sql) => deleteStoredFile(sql, bankId, key)).catch(() => undefined);
      throw error;
    }
  }

  private async writeArchive(
    bankId: string,
    onlyIds: string[] | null,
    parts: PartWriter,
    signal: AbortSignal,
  ): Promise<{ document_count: number; fact_count: number; loose_fact_count: number }> {
    let failure: Error | null = null;
    const zip = new Zip((error, data) => {
      if (error) failure = error;
      else parts.push(data);
    });
    const addEntry = (name: string, value: unknown) => {
      const entry = new ZipDeflate(name, { level: 6 });
      zip.add(entry);
      entry.push(strToU8(JSON.stringify(value)), true);
      if (failure) throw failure;
    };

    let documentCount = 0;
    let factCount = 0;
    for (let after: string | null = null; ;) {
      signal.throwIfAborted();
      const page = await this.database.withConnection(async (sql) => {
        const documents = await exportDocumentPage(sql, bankId, after, onlyIds, DOCUMENTS_PER_PAGE);
        const ids = documents.map((document) => document.id);
        return { documents, chunks: await exportChunks(sql, bankId, ids), facts: await exportDocumentFacts(sql, bankId, ids) };
      });
      for (const document of page.documents) {
        const facts = page.facts.filter((fact) => fact.document_id === document.id).map(toTransferFact);
        const transfer: TransferDocument = {
          id: document.id,
          original_text: document.original_text,
          retain_params: { metadata: document.metadata },
          tags: document.tags,
          created_at: new Date(document.created_at).toISOString(),
          chunks: page.chunks
            .filter((chunk) => chunk.document_id === document.id)
            .map((chunk) => ({ chunk_index: chunk.chunk_index, chunk_text: chunk.chunk_text })),
          facts,
        };
        addEntry(documentEntryName(documentCount), transfer);
        documentCount += 1;
        factCount += facts.length;
      }
      await parts.flush();
      if (page.documents.length < DOCUMENTS_PER_PAGE) break;
      after = page.documents[page.documents.length - 1].id;
    }

    let looseCount = 0;
    if (onlyIds === null) {
      for (let after: string | null = null, index = 0; ; index += 1) {
        signal.throwIfAborted();
        const facts = await this.database.withConnection((sql) => exportLooseFactPage(sql, bankId, after, LOOSE_FACTS_PER_ENTRY));
        if (facts.length === 0) break;
        addEntry(looseEntryName(index), { facts: facts.map(toTransferFact) });
        looseCount += facts.length;
        await parts.flush();
        if (facts.length < LOOSE_FACTS_PER_ENTRY) break;
        after = facts[facts.length - 1].id;
      }
    }

    const manifest: TransferManifest = {
      schema_version: TRANSFER_SCHEMA_VERSION,
      source_bank_id: bankId,
      exported_at: new Date().toISOString(),
      document_count: documentCount,
      fact_count: factCount + looseCount,
      observation_count: 0,
      archive_type: 'documents',
    };
    addEntry(MANIFEST_ENTRY, manifest);
    zip.end();
    if (failure) throw failure;
    return { document_count: documentCount, fact_count: factCount, loose_fact_count: looseCount };
  }

  private async runImport(operation: ClaimedOperation, signal: AbortSignal): Promise<void> {
    const { bankId } = operation;
    const key = String(operation.payload.storage_key);
    const onConflict = operation.payload.on_conflict as OnConflict;
    const archive = await this.loadArchive(bankId, key);
    // Resumes after the last entry an earlier attempt committed (each commit saves the checkpoint).
    const saved = operation.result as Partial<ImportProgress> | null;
    const progress: ImportProgress = {
      next_entry: saved?.next_entry ?? 0,
      counts: saved?.counts ?? {
        documents_imported: 0,
        documents_skipped: 0,
        facts_imported: 0,
        loose_facts_imported: 0,
        loose_facts_skipped: 0,
        skipped_document_ids: [],
        remapped_document_ids: {},
      },
    };
    const commitEntry = async (sql: Sql, index: number) => {
      progress.next_entry = index + 1;
      await this.operations.saveProgress(sql, operation, { ...progress });
    };
    const fence = (sql: Sql) => this.operations.assertLeaseHeld(sql, operation);
    let index = 0;
    for await (const { name, text } of archiveEntries(archive)) {
      const entry = index++;
      if (entry < progress.next_entry) continue;
      signal.throwIfAborted();
      if (name.startsWith('documents/')) {
        const document = parseEntry(transferDocumentSchema, name, text);
        await this.importDocument(bankId, document, onConflict, progress.counts, fence, (sql) => commitEntry(sql, entry), signal);
      } else if (name.startsWith('loose/')) {
        const { facts } = parseEntry(looseFactsSchema, name, text);
        await this.importLooseFacts(bankId, facts, progress.counts, fence, (sql) => commitEntry(sql, entry), signal);
      }
    }
    const { counts } = progress;
    await this.database.transaction(async (sql) => {
      await fence(sql);
      await this.operations.complete(sql, operation, { ...counts });
      await deleteStoredFile(sql, bankId, key);
    });
    this.logger.log(
      `Imported ${counts.documents_imported} document(s) into bank ${bankId} (${counts.documents_skipped} skipped, ` +
        `${counts.facts_imported + counts.loose_facts_imported} memories)`,
    );
  }

  private async loadArchive(bankId: string, key: string): Promise<Buffer> {
    const buffers: Buffer[] = [];
    for await (const part of this.readParts(bankId, key)) buffers.push(part);
    if (buffers.length === 0) throw new Error(`the uploaded archive ${key} is gone`);
    return Buffer.concat(buffers);
  }

  /**
   * One document, whole or not at all. Its id is kept unless the bank has a document of that id:
   * then `skip` leaves it, `replace` writes this one in its place, `new-id` writes this one under
   * a fresh id. Decided again under the row lock, where a concurrent writer cannot move it.
   */
  private async importDocument(
    bankId: string,
    document: TransferDocument,
    onConflict: OnConflict,
    counts: ImportCounts,
    fence: (sql: Sql) => Promise<void>,
    commit: (sql: Sql) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const existed = await this.database.withConnection((sql) => documentExists(sql, bankId, document.id, false));
    // Nothing to embed for a document that will be skipped.
    if (existed && onConflict === 'skip') {
      skipped(counts, document.id);
      return;
    }
    const embedded = await this.embed(document.facts, signal);
    await this.database.transaction(async (sql) => {
      await fence(sql);
      await ensureBank(sql, bankId);
      const exists = await documentExists(sql, bankId, document.id, true);
      if (exists && onConflict === 'skip') {
        skipped(counts, document.id);
        await commit(sql);
        return;
      }
      const targetId = exists && onConflict === 'new-id' ? randomUUID() : document.id;
      const replacing = exists && onConflict === 'replace';
      const touchedEntities = replacing ? await entitiesLinkedToDocuments(sql, bankId, [targetId]) : [];
      if (replacing) {
        await deleteDocumentsMemories(sql, bankId, [targetId]);
        await deleteDocumentsChunks(sql, bankId, [targetId]);
      }
      await upsertDocuments(sql, bankId, [
        {
          documentId: targetId,
          originalText: document.original_text ?? document.facts.map((fact) => fact.text).join('\n'),
          metadata: stringRecord(document.retain_params?.metadata),
          tags: document.tags,
        },
      ]);
      const chunkIds = new Map<number, string>();
      const chunks: NewChunk[] = document.chunks.map((chunk) => {
        const id = randomUUID();
        chunkIds.set(chunk.chunk_index, id);
        return { id, documentId: targetId, index: chunk.chunk_index, text: chunk.chunk_text };
      });
      await insertChunks(sql, bankId, chunks);
      await this.writeFacts(sql, bankId, targetId, document.facts, embedded, chunkIds, touchedEntities);
      counts.documents_imported += 1;
      counts.facts_imported += document.facts.length;
      if (targetId !== document.id && Object.keys(counts.remapped_document_ids).length < LISTED_IDS) {
        counts.remapped_document_ids[document.id] = targetId;
      }
      await commit(sql);
    });
  }

  /** A page of memories retained without a document; one the bank holds already is not written twice. */
  private async importLooseFacts(
    bankId: string,
    facts: TransferFact[],
    counts: ImportCounts,
    fence: (sql: Sql) => Promise<void>,
    commit: (sql: Sql) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const embedded = await this.embed(facts, signal);
    await this.database.transaction(async (sql) => {
      await fence(sql);
      await ensureBank(sql, bankId);
      const held = await existingLooseFacts(
        sql,
        bankId,
        facts.map((fact) => fact.text),
      );
      const seen = new Set(held.map((row) => looseKey(row.text, new Date(row.mentioned_at))));
      const fresh = facts.flatMap((fact, index) =>
        seen.has(looseKey(fact.text, dateOrNull(fact.mentioned_at))) ? [] : [{ fact, embedded: embedded[index] }],
      );
      await this.writeFacts(
        sql,
        bankId,
        null,
        fresh.map(({ fact }) => fact),
        fresh.map(({ embedded }) => embedded),
        new Map(),
        [],
      );
      counts.loose_facts_imported += fresh.length;
      counts.loose_facts_skipped += facts.length - fresh.length;
      await commit(sql);
    });
  }

  /** Each fact's embedding and its count for recall's token budget, made before any connection is held. */
  private async embed(facts: TransferFact[], signal: AbortSignal): Promise<EmbeddedFact[]> {
    if (facts.length === 0) return [];
    const embeddings = await this.ai.embedder
      .embed(
        facts.map((fact) => fact.text),
        signal,
      )
      .catch((error: unknown) => {
        throw fromExternalFailure(error);
      });
    const counter = await cl100kStorageCounter();
    return facts.map((fact, index) => ({
      embedding: embeddings[index],
      tokens: memoryTokens(counter, { text: fact.text, context: fact.context ?? null }),
    }));
  }

  /** The memories of one document (or loose ones), their entities and links, as retain writes them. */
  private async writeFacts(
    sql: Sql,
    bankId: string,
    documentId: string | null,
    facts: TransferFact[],
    embedded: EmbeddedFact[],
    chunkIds: Map<number, string>,
    touchedEntities: string[],
  ): Promise<void> {
    const mentioned = await resolveMentionedEntities(
      sql,
      bankId,
      // An archive's names were found by another system's LLM: one too long to key is left out, as retain leaves it out.
      facts.map((fact) => mergeEntities(fact.entities.map((name) => ({ name, type: null })))),
      this.knownEntities,
    );
    const units: NewMemoryUnit[] = facts.map((fact, index) => ({
      documentId,
      chunkId: fact.chunk_index == null ? null : (chunkIds.get(fact.chunk_index) ?? null),
      text: fact.text,
      context: fact.context ?? null,
      factType: fact.fact_type,
      occurredStart: dateOrNull(fact.occurred_start),
      occurredEnd: dateOrNull(fact.occurred_end),
      mentionedAt: dateOrNull(fact.mentioned_at) ?? dateOrNull(fact.event_date),
      metadata: fact.metadata,
      tags: fact.tags,
      embedding: embedded[index].embedding,
      tokens: embedded[index].tokens,
      observationScopes: scopesOf(fact),
      attributeKey: keptAttributeKey(fact.attribute_key),
      entityIds: mentioned.perMemory[index],
    }));
    const unitIds = await insertMemoryUnits(sql, this.vectors, bankId, units);
    await linkNewMemories(sql, bankId, unitIds, mentioned);
    await reclaimOrphanEntities(sql, [...new Set([...mentioned.byCanonical.values(), ...touchedEntities])]);
    await recomputeSupersession(
      sql,
      bankId,
      units.flatMap((unit) => (unit.attributeKey ? [unit.attributeKey] : [])),
    );
  }
}

/** Collects the archive's bytes and stores them in parts of PART_BYTES, each in its own short transaction. */
class PartWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private seq = 0;
  byteSize = 0;

  constructor(private readonly store: (seq: number, bytes: Uint8Array) => Promise<void>) {}

  push(data: Uint8Array): void {
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.byteSize += data.length;
  }

  /** Stores every full part collected so far. */
  async flush(): Promise<void> {
    while (this.pendingBytes >= PART_BYTES) await this.storeNext(PART_BYTES);
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.pendingBytes > 0) await this.storeNext(this.pendingBytes);
  }

  private async storeNext(size: number): Promise<void> {
    const all = Buffer.concat(this.pending);
    this.pending = size < all.length ? [all.subarray(size)] : [];
    this.pendingBytes = all.length - size;
    await this.store(this.seq++, all.subarray(0, size));
  }
}

function toTransferFact(row: ExportFactRow): TransferFact {
  return {
    text: row.text,
    fact_type: row.fact_type,
    context: row.context,
    event_date: null,
    occurred_start: isoOrNull(row.occurred_start),
    occurred_end: isoOrNull(row.occurred_end),
    mentioned_at: isoOrNull(row.mentioned_at),
    metadata: row.metadata ?? {},
    tags: row.tags,
    observation_scopes: row.observation_scopes ?? null,
    chunk_index: row.chunk_index,
    entities: row.entities,
    causal_relations: [],
    created_at: isoOrNull(row.created_at),
    consolidated_at: row.consolidation_status === 'done' ? isoOrNull(row.updated_at) : null,
    consolidation_failed_at: row.consolidation_status === 'failed' ? isoOrNull(row.updated_at) : null,
    attribute_key: row.attribute_key,
  };
}

/**
 * Reads every entry once before anything is stored, so that an archive with one bad entry is
 * refused whole at upload (naming the entry) rather than failing halfway through its import.
 */
async function checkArchive(archive: Buffer, limits: InputLimits): Promise<TransferManifest> {
  let manifest: TransferManifest | null = null;
  try {
    for await (const { name, text } of archiveEntries(archive)) {
      if (name === MANIFEST_ENTRY) manifest = parseEntry(transferManifestSchema, name, text);
      else if (name.startsWith('documents/')) checkStorable(name, parseEntry(transferDocumentSchema, name, text), limits);
      else if (name.startsWith('loose/')) checkStorable(name, parseEntry(looseFactsSchema, name, text), limits);
    }
  } catch (error) {
    if (error instanceof InvalidArchiveError) throw error;
    throw new InvalidArchiveError(`not a readable ZIP archive (${(error as Error).message})`);
  }
  if (manifest === null) throw new InvalidArchiveError(`it has no ${MANIFEST_ENTRY}`);
  return manifest;
}

/**
 * What the import would write that the database refuses, as the HTTP edge refuses it in a
 * request: text with NUL or a lone surrogate anywhere, a document id or a tag over its limit (they
 * are btree and GIN keys). Hindsight stores neither character, so its own archives pass.
 */
function checkStorable(name: string, entry: TransferDocument | { facts: TransferFact[] }, limits: InputLimits): void {
  const refuse = (path: string, problem: string) => {
    throw new InvalidArchiveError(`${name}: ${path} ${problem}`);
  };
  if ('id' in entry && entry.id.length > limits.maxDocumentIdLength)
    refuse('id', `must be at most ${limits.maxDocumentIdLength} characters long`);
  const tags = [...('tags' in entry ? entry.tags : []), ...entry.facts.flatMap((fact) => fact.tags)];
  if (tags.some((tag) => tag.length > limits.maxTagLength)) refuse('tags', `must be at most ${limits.maxTagLength} characters long each`);
  const pending: Array<{ value: unknown; path: string }> = [{ value: entry, path: '' }];
  while (pending.length) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      const reason = unstorableReason(value);
      if (reason) refuse(path || '(root)', reason);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        const keyReason = unstorableReason(key);
        if (keyReason) refuse(`${path || '(root)'} keys`, keyReason);
        pending.push({ value: child, path: path ? `${path}.${key}` : key });
      }
    }
  }
}

function parseEntry<T>(
  schema: {
    safeParse(
      value: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  name: string,
  text: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidArchiveError(`${name} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArchiveError(`${name}: ${issue.path.map(String).join('.') || '(root)'} ${issue.message}`);
  }
  return parsed.data;
}

/** The archive's entries one at a time, each read only when the previous one was handled. */
async function* archiveEntries(
  archive: Buffer,
  wanted: (name: string) => boolean = () => true,
): AsyncIterable<{ name: string; text: string }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(archive, { lazyEntries: true, validateEntrySizes: true }, (error, opened) =>
      error ? reject(error) : resolve(opened),
    ),
  );
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        zip.once('entry', resolve);
        zip.once('end', () => resolve(null));
        zip.once('error', reject);
        zip.readEntry();
      });
      zip.removeAllListeners('entry').removeAllListeners('end').removeAllListeners('error');
      if (!entry) return;
      if (entry.fileName.endsWith('/') || !wanted(entry.fileName)) continue;
      const text = await new Promise<string>((resolve, reject) =>
        zip.openReadStream(entry, (error, stream) => {
          if (error) return reject(error);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          stream.on('error', reject);
        }),
      );
      yield { name: entry.fileName, text };
    }
  } finally {
    zip.close();
  }
}

function skipped(counts: ImportCounts, documentId: string): void {
  counts.documents_skipped += 1;
  if (counts.skipped_document_ids.length < LISTED_IDS) counts.skipped_document_ids.push(documentId);
}

function scopesOf(fact: TransferFact) {
  if (fact.observation_scopes == null) return null;
  const parsed = parseScopesSpec(fact.observation_scopes as never, fact.tags);
  return 'spec' in parsed ? parsed.spec : null;
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function looseKey(text: string, mentionedAt: Date | null): string {
  return `${mentionedAt?.getTime() ?? ''}\0${text}`;
}

function dateOrNull(value: string | null | undefined): Date | null {
  return value ? new Date(value) : null;
}

function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}
