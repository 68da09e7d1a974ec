import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ensureBank } from '../banks/banks.queries.js';
import { AiClients } from '../external/ai-clients.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import { MEMORY_VECTOR_BACKEND } from '../memory.constants.js';
import { MentalModelsService } from '../mental-models/mental-models.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import { keywordQueryText } from '../recall/arms/keyword-arm.js';
import { fuseByReciprocalRank } from '../recall/reciprocal-rank-fusion.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import {
  type NodeRow,
  deleteNode,
  insertNode,
  isWithinSubtree,
  lockKnowledgeBase,
  lockNode,
  pageNameTaken,
  pagesByKeyword,
  pagesByVector,
  pagesToEmbed,
  selectNode,
  selectNodes,
  selectSearchHits,
  selectSubtree,
  updateNode,
  writePageEmbedding,
} from './knowledge-base.queries.js';
import {
  type CreateKnowledgePage,
  type KnowledgeNode,
  type KnowledgePage,
  type KnowledgeSearchHit,
  PAGE_DEFAULT_MAX_TOKENS,
  PAGE_DEFAULT_TRIGGER,
  type UpdateKnowledgeNode,
} from './knowledge-base.types.js';
import { INDEX_FILENAME, logFilename, pageFilename, renderIndex, renderLog, renderPage } from './page-markdown.js';

/** Reciprocal rank fusion's constant, as recall and Hindsight's page search use it. */
const RRF_K = 60;
/** Pages embedded per search at most; the rest wait for the next one (the keyword arm still finds them). */
const EMBED_PER_SEARCH = 64;
/** Characters of a page given to the embedder: its opening says what it is about. */
const EMBEDDED_CHARACTERS = 8_000;

export interface BundleFile {
  path: string;
  content: string;
}

/**
 * The knowledge base: folders and pages over mental models (Hindsight's Knowledge Base). A page
 * is a mental model placed in the tree; MentalModelsService creates, changes, refreshes and
 * deletes the models, in the transaction of the tree change that needs it, so a page and its
 * model are written and deleted together.
 *
 * Every change of the tree's shape takes the bank's knowledge-base lock first and checks what it
 * depends on under it (the parent, the moved subtree, the free name), so concurrent moves cannot
 * build a cycle, and nothing is created under a folder being deleted. A refresh running while its
 * page is deleted finds its model gone when it writes (the refresh writes under the model's row
 * lock), and writes nothing.
 */
@Injectable()
export class KnowledgeBaseService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MentalModelsService) private readonly models: MentalModelsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(MEMORY_VECTOR_BACKEND) private readonly vectors: VectorBackend,
  ) {}

  /**
   * The bank's folders and pages as a tree; each page says whether memories of its scope were
   * written since its last refresh, as the mental-model read computes it. Empty for a bank that
   * does not exist.
   */
  async tree(bankId: string): Promise<KnowledgeNode[]> {
    return this.database.withConnection(async (sql) => {
      const nodes: KnowledgeNode[] = [];
      for (const row of await selectNodes(sql, bankId)) {
        const stale = row.kind === 'page' ? await this.staleness(bankId, row.mental_model_id!) : null;
        // A model deleted since the rows were read took its page with it.
        if (stale !== undefined) nodes.push(toNode(row, stale));
      }
      return assemble(nodes);
    });
  }

  async createFolder(bankId: string, name: string, parentId: string | null): Promise<KnowledgeNode> {
    const folderName = requireText(name, 'name');
    const id = `kf-${hexId()}`;
    return this.database.transaction(async (sql) => {
      await lockKnowledgeBase(sql, bankId);
      await ensureBank(sql, bankId);
      await assertFolder(sql, bankId, parentId);
      await insertNode(sql, { bankId, id, parentId, kind: 'folder', name: folderName, mentalModelId: null });
      return toNode((await selectNode(sql, bankId, id))!, null);
    });
  }

  /**
   * The page's model and node in one transaction, with the model's first refresh queued in it
   * (the content is the placeholder until it runs).
   */
  async createPage(bankId: string, request: CreateKnowledgePage): Promise<{ pageId: string; mentalModelId: string; operationId: string }> {
    const name = requireText(request.name, 'name');
    const parentId = request.parentId ?? null;
    const pageId = `kp-${hexId()}`;
    return this.database.transaction(async (sql) => {
      await lockKnowledgeBase(sql, bankId);
      await ensureBank(sql, bankId);
      await assertFolder(sql, bankId, parentId);
      if (await pageNameTaken(sql, bankId, parentId, name, null)) throw nameTaken(name);
      const created = await this.models.create(bankId, {
        id: `mm-${hexId()}`,
        name,
        sourceQuery: request.sourceQuery,
        tags: request.tags,
        maxTokens: request.maxTokens ?? PAGE_DEFAULT_MAX_TOKENS,
        trigger: request.trigger ?? PAGE_DEFAULT_TRIGGER,
      });
      await insertNode(sql, { bankId, id: pageId, parentId, kind: 'page', name, mentalModelId: created.mentalModelId });
      // The model service wakes the worker before this transaction commits; the refresh is visible only after.
      sql.afterCommit(() => this.worker.notify());
      return { pageId, mentalModelId: created.mentalModelId, operationId: created.operationId };
    });
  }

  async getPage(bankId: string, pageId: string): Promise<KnowledgePage> {
    const row = await this.database.withConnection((sql) => selectNode(sql, bankId, pageId));
    if (!row || row.kind !== 'page') throw new MemoryException(MemoryErrorCode.MemoryNotFound, `Knowledge page '${pageId}' not found`);
    return toPage(row);
  }

  /**
   * Rename, move and page options in one transaction: a change that cannot apply (a page option
   * on a folder, a move under a page or into the node's own subtree, a name taken) refuses the
   * whole request and changes nothing. A new `sourceQuery` queues a refresh of the page.
   */
  async update(bankId: string, nodeId: string, patch: UpdateKnowledgeNode): Promise<KnowledgeNode> {
    const name = patch.name === undefined ? undefined : requireText(patch.name, 'name');
    const move = patch.parentId !== undefined;
    const pageOptions = PAGE_OPTIONS.filter(([field]) => patch[field] !== undefined).map(([, wire]) => wire);
    if (name === undefined && !move && pageOptions.length === 0) {
      throw invalid('Provide name, parent_id, source_query, tags and/or max_tokens to update', undefined);
    }
    return this.database.transaction(async (sql) => {
      await lockKnowledgeBase(sql, bankId);
      const current = await lockNode(sql, bankId, nodeId);
      if (!current) throw nodeNotFound(nodeId);
      if (current.kind === 'folder' && pageOptions.length > 0) {
        throw invalid(`${pageOptions[0]} applies to pages only; '${nodeId}' is a folder`, pageOptions[0]);
      }
      const parentId = move ? (patch.parentId ?? null) : current.parent_id;
      if (move && parentId !== null) {
        if (parentId === nodeId) throw invalid('A node cannot be its own parent', 'parent_id');
        await assertFolder(sql, bankId, parentId);
        if (await isWithinSubtree(sql, bankId, nodeId, parentId)) {
          throw invalid(`Cannot move '${nodeId}' into its own subtree: '${parentId}' is under it`, 'parent_id');
        }
      }
      if (
        current.kind === 'page' &&
        (name !== undefined || move) &&
        (await pageNameTaken(sql, bankId, parentId, name ?? current.name, nodeId))
      ) {
        throw nameTaken(name ?? current.name);
      }
      await updateNode(sql, bankId, nodeId, { name: name ?? null, move, parentId });
      if (current.kind === 'page') {
        const modelId = current.mental_model_id!;
        // The model is the page's content and search text: it carries the page's name too.
        if (name !== undefined || pageOptions.length > 0) {
          await this.models.update(bankId, modelId, { name, sourceQuery: patch.sourceQuery, tags: patch.tags, maxTokens: patch.maxTokens });
        }
        if (patch.sourceQuery !== undefined) {
          await this.models.refresh(bankId, modelId);
          sql.afterCommit(() => this.worker.notify());
        }
      }
      return toNode((await selectNode(sql, bankId, nodeId))!, null);
    });
  }

  /** The node, everything under it and the models of its pages, in one transaction. */
  async delete(bankId: string, nodeId: string): Promise<void> {
    await this.database.transaction(async (sql) => {
      await lockKnowledgeBase(sql, bankId);
      const subtree = await selectSubtree(sql, bankId, nodeId);
      if (subtree.length === 0) throw nodeNotFound(nodeId);
      for (const node of subtree) {
        if (node.mental_model_id === null) continue;
        // Deleting the model takes its page row (the foreign key cascades).
        await this.models.delete(bankId, node.mental_model_id).catch(unlessNotFound(undefined));
      }
      await deleteNode(sql, bankId, nodeId);
    });
  }

  /**
   * Hindsight's page search: a full-text arm and a vector arm over the pages' name and content,
   * fused by reciprocal rank, no reranker. Pages are embedded here, when their text has changed
   * since they last were: the query and those pages in one embedder call with no connection held,
   * then one short transaction stores the embeddings (each only if its page still reads the same)
   * and runs both arms.
   */
  async search(bankId: string, query: string, limit: number, signal?: AbortSignal): Promise<KnowledgeSearchHit[]> {
    const text = query.trim();
    if (text === '') return [];
    const pending = await this.database.withConnection((sql) => pagesToEmbed(sql, bankId, EMBED_PER_SEARCH));
    const embedded = await this.ai.embedder
      .embed([text, ...pending.map((page) => page.text.slice(0, EMBEDDED_CHARACTERS))], signal)
      .catch((error: unknown) => {
        throw fromExternalFailure(error);
      });
    if (embedded.length !== pending.length + 1 || embedded.some((vector) => vector?.length !== this.vectors.dimension)) {
      throw new MemoryException(
        MemoryErrorCode.ExternalServiceFailed,
        `the embedder did not return ${pending.length + 1} vectors of ${this.vectors.dimension} dimensions`,
      );
    }
    const [queryVector, ...pageVectors] = embedded;
    const perArm = Math.min(Math.max(limit * 4, 40), 200);
    return this.database.transaction(async (sql) => {
      for (const [index, page] of pending.entries()) {
        await writePageEmbedding(sql, this.vectors, bankId, page.id, pageVectors[index], page.md5);
      }
      const words = keywordQueryText(text);
      const keyword = words === '' ? [] : await pagesByKeyword(sql, bankId, words, perArm);
      const semantic = await pagesByVector(sql, this.vectors, bankId, queryVector, perArm);
      const ids = [...new Set([...keyword, ...semantic].map((candidate) => candidate.id))];
      if (ids.length === 0) return [];
      const rows = new Map((await selectSearchHits(sql, bankId, ids)).map((row) => [row.id, row]));
      const fused = fuseByReciprocalRank(
        [
          { name: 'keyword', candidates: keyword.map((row) => ({ id: row.id, score: Number(row.score) })) },
          { name: 'semantic', candidates: semantic.map((row) => ({ id: row.id, score: Number(row.score) })) },
        ],
        RRF_K,
        new Map([...rows.values()].map((row) => [row.id, row.last_refreshed_at])),
      );
      return fused.slice(0, limit).map((hit) => {
        const row = rows.get(hit.id)!;
        return {
          id: row.id,
          name: row.name,
          mentalModelId: row.mental_model_id,
          snippet: (row.snippet ?? '').trim(),
          score: hit.score,
          updatedAt: row.last_refreshed_at,
        };
      });
    });
  }

  /** Hindsight's markdown bundle: `index.md`, one `<id>.md` per page, and `<id>.log.md` for a page with history. */
  async exportBundle(bankId: string): Promise<BundleFile[]> {
    return this.database.withConnection(async (sql) => {
      const rows = await selectNodes(sql, bankId);
      const files: BundleFile[] = [{ path: INDEX_FILENAME, content: renderIndex(assemble(rows.map((row) => toNode(row, null)))) }];
      for (const row of rows) {
        if (row.kind !== 'page') continue;
        const page = toPage(row);
        files.push({ path: pageFilename(page.id), content: renderPage(page) });
        const history = await this.models.history(bankId, page.mentalModelId).catch(unlessNotFound([]));
        if (history.length > 0) files.push({ path: logFilename(page.id), content: renderLog(page, history) });
      }
      return files;
    });
  }

  /** Undefined when the model is gone. */
  private async staleness(bankId: string, modelId: string): Promise<boolean | undefined> {
    return this.models.getWithStaleness(bankId, modelId).then(({ isStale }) => isStale, unlessNotFound(undefined));
  }
}

const PAGE_OPTIONS = [
  ['sourceQuery', 'source_query'],
  ['tags', 'tags'],
  ['maxTokens', 'max_tokens'],
] as const;

/** A parent, when given, is a folder of the bank; checked under the bank's lock. */
async function assertFolder(sql: Sql, bankId: string, parentId: string | null): Promise<void> {
  if (parentId === null) return;
  const parent = await selectNode(sql, bankId, parentId);
  if (!parent) throw invalid(`Parent folder '${parentId}' not found`, 'parent_id');
  if (parent.kind !== 'folder') throw invalid(`Parent '${parentId}' is not a folder`, 'parent_id');
}

/** Children in the order of the rows (display order); a node whose parent is missing is a root. */
function assemble(nodes: KnowledgeNode[]): KnowledgeNode[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const roots: KnowledgeNode[] = [];
  for (const node of nodes) {
    const parent = node.parentId === null ? undefined : byId.get(node.parentId);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function toNode(row: NodeRow, isStale: boolean | null): KnowledgeNode {
  const page = row.kind === 'page';
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    parentId: row.parent_id,
    mentalModelId: row.mental_model_id,
    managed: row.managed,
    sourceQuery: page ? row.source_query : null,
    tags: page ? (row.tags ?? []) : [],
    timestamp: page ? row.last_refreshed_at : row.updated_at,
    isStale: page ? isStale : null,
    children: [],
  };
}

function toPage(row: NodeRow): KnowledgePage {
  return {
    id: row.id,
    name: row.name,
    mentalModelId: row.mental_model_id!,
    sourceQuery: row.source_query ?? '',
    tags: row.tags ?? [],
    content: row.content,
    lastRefreshedAt: row.last_refreshed_at,
    createdAt: row.created_at,
  };
}

/** A model deleted by another caller since the rows were read counts as `fallback`; any other failure stands. */
function unlessNotFound<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof MemoryException && error.code === MemoryErrorCode.MemoryNotFound) return fallback;
    throw error;
  };
}

function hexId(): string {
  return randomUUID().replace(/-/g, '');
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field} cannot be empty`, field);
  return value.trim();
}

function invalid(message: string, field: string | undefined): MemoryException {
  return new MemoryException(MemoryErrorCode.InvalidInput, message, field);
}

function nameTaken(name: string): MemoryException {
  return new MemoryException(MemoryErrorCode.Conflict, `A page named '${name}' already exists in this folder`);
}

/** There is no code of its own for nodes: MemoryNotFound carries the 404. */
function nodeNotFound(id: string): MemoryException {
  return new MemoryException(MemoryErrorCode.MemoryNotFound, `Knowledge node '${id}' not found`);
}
