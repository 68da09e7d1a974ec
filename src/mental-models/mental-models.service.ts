import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { ensureBank } from '../banks/banks.queries.js';
import { DirectivesService, directivesPrompt } from '../directives/directives.service.js';
import { AiClients } from '../external/ai-clients.js';
import type { LlmUsage } from '../external/llm-client.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import type { ClaimedOperation } from '../operations/operation.types.js';
import { OperationsService } from '../operations/operations.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import { RecallService } from '../recall/recall.service.js';
import { FACT_TYPES, TAGS_MATCHES, type RecalledMemory, type TagsMatch } from '../recall/recall.types.js';
import { InvalidTagGroupError, type TagGroup, parseTagGroups } from '../recall/tag-groups.js';
import { NO_USAGE, addUsage, describeMemory, extractiveAnswer, toFact } from '../reflect/reflect.service.js';
import { instantForModel } from '../time/for-a-model.js';
import type { ReflectFact } from '../reflect/reflect.types.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { CronSchedule } from './cron-schedule.js';
import {
  type CreateMentalModel,
  DEFAULT_MODEL_TOKENS,
  MAX_MODEL_TOKENS,
  MIN_MODEL_TOKENS,
  type MentalModel,
  type MentalModelFilter,
  type MentalModelHistoryEntry,
  type MentalModelTrigger,
  REFRESH_MENTAL_MODEL,
  type UpdateMentalModel,
} from './mental-model.types.js';
import {
  type ModelRow,
  clearModelContent,
  deleteModel,
  insertModel,
  listModels,
  lockModel,
  lockModelForRefresh,
  memoriesWrittenSince,
  newestMemoryOfScope,
  modelsToRefreshAfterConsolidation,
  scheduledModels,
  selectHistory,
  selectModel,
  tryCronLock,
  updateModel,
  writeRefreshedContent,
} from './mental-models.queries.js';

const CRON_CHECK_INTERVAL_MS = 30_000;
export const MODEL_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_ID_LENGTH = 64;

const summarySchema = z.object({ content: z.string().trim().min(1, 'empty content') });

const SYSTEM_PROMPT = `You maintain a "mental model": a concise, self-contained summary of what an AI agent knows
about one topic, written from its long-term memories. Use only the memories given; prefer recent
information when memories disagree, and say what is uncertain. A memory marked superseded was replaced
by a newer one: it is history, not the current state. Write markdown.
Return JSON: {"content": string}.`;

/**
 * Mental models: named summaries of what a bank knows about a query, kept up to date by
 * refresh operations on the shared queue.
 *
 * A refresh recalls and summarises with no connection held, then writes the content in one
 * short transaction fenced by the operation's lease, so a worker that lost its lease writes
 * nothing. An empty or unusable LLM answer fails the attempt and the old content stays.
 *
 * Refreshes run when asked (`refresh`), on creation, after consolidation
 * (`refreshAfterConsolidation`, called by consolidation) and on each model's `refresh_cron`:
 * one interval per instance checks which schedules fired since the model's last refresh or
 * queued refresh, under a transaction-scoped advisory lock so one instance of a fleet queues
 * each due refresh once.
 */
@Injectable()
export class MentalModelsService {
  private readonly logger = new Logger(MentalModelsService.name);
  private cronTimer?: NodeJS.Timeout;
  private cronTick: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(RecallService) private readonly recaller: RecallService,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(DirectivesService) private readonly directives: DirectivesService,
  ) {
    worker.register(REFRESH_MENTAL_MODEL, (operation, signal) => this.runRefresh(operation, signal));
  }

  /** Stage 'scheduler' (MemoryLifecycle): the cron check, torn down in the same stage. */
  start(): void {
    this.cronTimer = setInterval(() => {
      this.cronTick = this.cronTick.then(() =>
        this.queueDueRefreshes().catch((error: unknown) => this.logger.warn(`Mental model cron check failed: ${errorMessage(error)}`)),
      );
    }, CRON_CHECK_INTERVAL_MS);
    this.coordinator.register('scheduler', 'mental-model-cron', async () => {
      clearInterval(this.cronTimer);
      await this.cronTick;
    });
  }

  /**
   * Queues a refresh of every model whose `refresh_cron` fired since its last refresh and since
   * its last queued refresh (so a failing refresh waits for the next slot instead of looping).
   * Returns the new operations' ids; none when another instance holds this tick's lock.
   */
  async queueDueRefreshes(now = new Date()): Promise<string[]> {
    const ids = await this.database.transaction(async (sql) => {
      if (!(await tryCronLock(sql))) return [];
      const models = await scheduledModels(sql);
      const queued: string[] = [];
      for (const model of models) {
        let schedule: CronSchedule;
        try {
          schedule = CronSchedule.parse(model.cron);
        } catch {
          continue; // validated on write; a hand-edited row is skipped, not fatal to the others
        }
        if (!schedule.firedBetween(new Date(model.since), now)) continue;
        queued.push(
          await this.operations.enqueue(sql, model.bank_id, REFRESH_MENTAL_MODEL, {
            mental_model_id: model.id,
            reason: 'cron',
            // The check's clock, which the next check compares with (tests pass their own).
            cron_checked_at: now.toISOString(),
          }),
        );
      }
      return queued;
    });
    if (ids.length) this.worker.notify();
    return ids;
  }

  /**
   * Models whose tags pass the filter and whose every basis (and an observation's sources) the
   * same filter would show: a model's content repeats what it was built from.
   */
  async list(bankId: string, filter: MentalModelFilter): Promise<MentalModel[]> {
    const rows = await this.database.withConnection((sql) =>
      listModels(sql, bankId, { tags: filter.tags ?? [], match: filter.tagsMatch ?? 'any', limit: filter.limit, offset: filter.offset }),
    );
    return rows.map(toModel);
  }

  async get(bankId: string, id: string): Promise<MentalModel> {
    const row = await this.database.withConnection((sql) => selectModel(sql, bankId, id));
    if (!row) throw notFound(id);
    return toModel(row);
  }

  /** The model and whether memories of its scope were written since its last refresh (one scope, two reads). */
  async getWithStaleness(bankId: string, id: string): Promise<{ model: MentalModel; isStale: boolean }> {
    return this.database.withConnection(async (sql) => {
      const row = await selectModel(sql, bankId, id);
      if (!row) throw notFound(id);
      const model = toModel(row);
      const isStale = await memoriesWrittenSince(sql, bankId, { since: model.lastRefreshedAt, ...scopeOf(model) });
      return { model, isStale };
    });
  }

  /** Newest first; 404 when the model does not exist. */
  async history(bankId: string, id: string): Promise<MentalModelHistoryEntry[]> {
    return this.database.withConnection(async (sql) => {
      if (!(await selectModel(sql, bankId, id))) throw notFound(id);
      const rows = await selectHistory(sql, bankId, id);
      return rows.map((row) => ({
        previousContent: row.previous_content,
        newContent: row.new_content,
        reason: row.reason,
        changedAt: row.changed_at,
      }));
    });
  }

  /** Empties the content (recorded in the history), so the next refresh re-synthesises from scratch. */
  async clear(bankId: string, id: string): Promise<MentalModel> {
    const row = await this.database.transaction((sql) => clearModelContent(sql, bankId, id));
    if (!row) throw notFound(id);
    return toModel(row);
  }

  /**
   * What a refresh would write now, with nothing stored: the same recall, directives and LLM
   * call as a refresh, read and asked with no connection held, then compared with the content.
   */
  async dryRunRefresh(bankId: string, id: string, signal?: AbortSignal): Promise<DryRunRefresh> {
    const started = performance.now();
    const model = await this.get(bankId, id);
    const scope = scopeOf(model);
    const window = await this.database.withConnection((sql) => newestMemoryOfScope(sql, bankId, scope));
    const summary = await this.summarise(model, signal);
    return {
      model,
      scope,
      createdBefore: window.now,
      watermark: window.newest,
      ...summary,
      durationMs: Math.round(performance.now() - started),
    };
  }

  /** Creates the model with a placeholder and queues its first refresh, in one transaction. */
  async create(bankId: string, request: CreateMentalModel): Promise<{ mentalModelId: string; operationId: string }> {
    const { id: explicitId, name, sourceQuery, maxTokens, trigger, tags } = checkModelDefinition(request);
    const result = await this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      const id = await this.insert(sql, bankId, explicitId, name, { sourceQuery, tags, maxTokens, trigger });
      const operationId = await this.operations.enqueue(sql, bankId, REFRESH_MENTAL_MODEL, { mental_model_id: id });
      return { mentalModelId: id, operationId };
    });
    this.worker.notify();
    return result;
  }

  async update(bankId: string, id: string, patch: UpdateMentalModel): Promise<MentalModel> {
    const name = patch.name === undefined ? null : requireText(patch.name, 'name');
    const sourceQuery = patch.sourceQuery === undefined ? null : requireText(patch.sourceQuery, 'source_query');
    const maxTokens = patch.maxTokens === undefined ? null : checkMaxTokens(patch.maxTokens);
    const tags = patch.tags === undefined ? null : uniqueTags(patch.tags);
    return this.database.transaction(async (sql) => {
      const current = await lockModel(sql, bankId, id);
      if (!current) throw notFound(id);
      const trigger =
        patch.trigger === undefined ? null : checkTrigger({ ...DEFAULT_TRIGGER, ...current.trigger, ...definedOnly(patch.trigger) });
      return toModel(await updateModel(sql, bankId, id, { name, sourceQuery, maxTokens, tags, trigger }));
    });
  }

  async delete(bankId: string, id: string): Promise<void> {
    const affected = await this.database.withConnection((sql) => deleteModel(sql, bankId, id));
    if (affected === 0) throw notFound(id);
  }

  /** Queues a refresh of one model; answers its operation id. */
  async refresh(bankId: string, id: string): Promise<string> {
    const operationId = await this.database.transaction(async (sql) => {
      if (!(await lockModelForRefresh(sql, bankId, id))) throw notFound(id);
      return this.operations.enqueue(sql, bankId, REFRESH_MENTAL_MODEL, { mental_model_id: id });
    });
    this.worker.notify();
    return operationId;
  }

  /**
   * For consolidation to call once it has changed a bank's observations: queues a refresh of
   * every model whose trigger asks for it, unless one is already waiting. Returns the new
   * operations' ids.
   */
  async refreshAfterConsolidation(bankId: string): Promise<string[]> {
    const ids = await this.database.transaction(async (sql) => {
      const queued: string[] = [];
      for (const modelId of await modelsToRefreshAfterConsolidation(sql, bankId)) {
        queued.push(
          await this.operations.enqueue(sql, bankId, REFRESH_MENTAL_MODEL, { mental_model_id: modelId, reason: 'consolidation' }),
        );
      }
      return queued;
    });
    if (ids.length) this.worker.notify();
    return ids;
  }

  /** The operation handler: read, recall and summarise with no connection held, then one fenced write. */
  private async runRefresh(operation: ClaimedOperation, signal: AbortSignal): Promise<void> {
    const modelId = String(operation.payload.mental_model_id);
    const row = await this.database.withConnection((sql) => selectModel(sql, operation.bankId, modelId));
    if (!row) {
      await this.database.transaction((sql) => this.operations.complete(sql, operation, { mental_model_id: modelId, skipped: 'deleted' }));
      return;
    }
    const model = toModel(row);
    const { content, basedOn } = await this.summarise(model, signal);
    signal.throwIfAborted();
    await this.database.transaction(async (sql) => {
      await this.operations.assertLeaseHeld(sql, operation);
      const affected = await writeRefreshedContent(sql, model.bankId, model.id, content, basedOn.map(factJson));
      await this.operations.complete(sql, operation, {
        mental_model_id: model.id,
        updated: affected === 1,
        based_on: basedOn.length,
      });
    });
  }

  private async summarise(model: MentalModel, signal?: AbortSignal): Promise<Summary> {
    const llm = this.ai.llm;
    const scope = scopeOf(model);
    const recallStarted = performance.now();
    const { results } = await this.recaller.recall(
      {
        bankId: model.bankId,
        query: model.sourceQuery,
        types: scope.types ?? undefined,
        tags: scope.tags,
        tagsMatch: scope.tagsMatch,
        tagGroups: scope.tagGroups ?? undefined,
        // Without a model the summary is the memories themselves, so they must fit its budget.
        maxTokens: llm
          ? (model.trigger.recallMaxTokens ?? undefined)
          : Math.min(model.maxTokens, model.trigger.recallMaxTokens ?? Infinity),
        includeEntities: null,
      },
      signal,
    );
    const recallMs = Math.round(performance.now() - recallStarted);
    if (!llm) {
      const extract = extractiveAnswer(results, results.length);
      return {
        content: extract.text,
        basedOn: extract.basedOn,
        retrieved: results,
        directives: [],
        usage: NO_USAGE,
        recallMs,
        llmMs: null,
      };
    }
    // Directives follow the model's own tags even when tag_groups choose its memories: they name its audience.
    const directives = await this.directives.applicable(model.bankId, {
      tags: model.tags,
      tagsMatch: model.trigger.tagsMatch ?? (model.tags.length > 0 ? 'all_strict' : 'any'),
    });
    const user = [
      `Now: ${instantForModel(new Date())}`,
      `Topic: ${model.name}`,
      `Query: ${model.sourceQuery}`,
      '',
      'Memories:',
      ...(results.length ? results.map(describeMemory) : ['(none)']),
    ].join('\n');
    let usage = NO_USAGE;
    const llmStarted = performance.now();
    const answer = await llm
      .completeJson(
        {
          operation: 'refresh-mental-model',
          system: SYSTEM_PROMPT + directivesPrompt(directives),
          user,
          schema: summarySchema,
          maxTokens: model.maxTokens,
          onUsage: (reported) => (usage = addUsage(usage, reported)),
          context: { bankId: model.bankId, traceId: randomUUID() },
        },
        signal,
      )
      .catch((error: unknown) => {
        throw fromExternalFailure(error);
      });
    return {
      content: answer.content,
      basedOn: results.map((memory: RecalledMemory) => toFact(memory)),
      retrieved: results,
      directives,
      usage,
      recallMs,
      llmMs: Math.round(performance.now() - llmStarted),
    };
  }

  /** An explicit id that exists is a conflict; a generated one takes the next free suffix. */
  private async insert(
    sql: Sql,
    bankId: string,
    explicitId: string | null,
    name: string,
    fields: { sourceQuery: string; tags: string[]; maxTokens: number; trigger: MentalModelTrigger },
  ): Promise<string> {
    const base = explicitId ?? slugOf(name);
    for (let n = 1; ; n += 1) {
      const id = n === 1 ? base : `${base.slice(0, MAX_ID_LENGTH - String(n).length - 1)}-${n}`;
      const inserted = await insertModel(sql, { bankId, id, name, ...fields });
      if (inserted !== undefined) return inserted;
      if (explicitId !== null) {
        throw new MemoryException(MemoryErrorCode.Conflict, `Mental model '${explicitId}' already exists in bank '${bankId}'`);
      }
    }
  }
}

/** A model's definition, checked and normalised. */
export interface CheckedModelDefinition {
  id: string | null;
  name: string;
  sourceQuery: string;
  maxTokens: number;
  trigger: MentalModelTrigger;
  tags: string[];
}

/**
 * The checks `create` makes, exported for bank templates, which write many models in one
 * transaction of their own and must refuse a bad one before writing any.
 */
export function checkModelDefinition(request: CreateMentalModel): CheckedModelDefinition {
  const name = requireText(request.name, 'name');
  const sourceQuery = requireText(request.sourceQuery, 'source_query');
  const maxTokens = checkMaxTokens(request.maxTokens ?? DEFAULT_MODEL_TOKENS);
  const trigger = checkTrigger({ ...DEFAULT_TRIGGER, ...definedOnly(request.trigger ?? {}) });
  const tags = uniqueTags(request.tags ?? []);
  const id = request.id ?? null;
  if (id !== null && (!MODEL_ID.test(id) || id.length > MAX_ID_LENGTH)) {
    throw invalid(`id must be lowercase letters, digits and hyphens (at most ${MAX_ID_LENGTH})`, 'id');
  }
  return { id, name, sourceQuery, maxTokens, trigger, tags };
}

const DEFAULT_TRIGGER: MentalModelTrigger = {
  refreshAfterConsolidation: false,
  refreshCron: null,
  factTypes: null,
  tagsMatch: null,
  tagGroups: null,
  recallMaxTokens: null,
  excludeMentalModels: false,
  excludeMentalModelIds: null,
};

/** What a refresh reads: a tagged model, with no mode of its own, only memories carrying all its tags (Hindsight's default). */
export interface RefreshScope {
  types: MentalModel['trigger']['factTypes'];
  tags: string[];
  tagsMatch: TagsMatch;
  tagGroups: TagGroup[] | null;
}

/** With `tag_groups`, the groups alone filter memories and the model's flat tags do not (Hindsight's rule). */
function scopeOf(model: MentalModel): RefreshScope {
  const groups = model.trigger.tagGroups;
  if (groups && groups.length > 0) return { types: model.trigger.factTypes, tags: [], tagsMatch: 'any', tagGroups: groups };
  return {
    types: model.trigger.factTypes,
    tags: model.tags,
    tagsMatch: model.trigger.tagsMatch ?? (model.tags.length > 0 ? 'all_strict' : 'any'),
    tagGroups: null,
  };
}

interface Summary {
  content: string;
  basedOn: ReflectFact[];
  /** Everything recall returned, cited or not. */
  retrieved: RecalledMemory[];
  directives: Awaited<ReturnType<DirectivesService['applicable']>>;
  usage: LlmUsage;
  recallMs: number;
  /** Null when no LLM was asked. */
  llmMs: number | null;
}

export interface DryRunRefresh extends Summary {
  model: MentalModel;
  scope: RefreshScope;
  /** The database's clock when the window was read. */
  createdBefore: Date;
  /** The newest memory of the scope, which a refresh now would be current to. */
  watermark: Date | null;
  durationMs: number;
}

function checkTrigger(trigger: MentalModelTrigger): MentalModelTrigger {
  if (trigger.refreshAfterConsolidation && trigger.refreshCron) {
    throw invalid('refresh_after_consolidation and refresh_cron cannot both be set', 'trigger');
  }
  if (trigger.refreshCron != null) {
    try {
      CronSchedule.parse(trigger.refreshCron);
    } catch (error) {
      throw invalid(`invalid cron expression '${trigger.refreshCron}': ${(error as Error).message}`, 'trigger.refresh_cron');
    }
  }
  if (trigger.factTypes != null) {
    if (trigger.factTypes.length === 0) throw invalid('fact_types cannot be empty', 'trigger.fact_types');
    if (trigger.factTypes.some((type) => !FACT_TYPES.includes(type))) throw invalid('unknown fact type', 'trigger.fact_types');
  }
  if (trigger.tagsMatch != null && !TAGS_MATCHES.includes(trigger.tagsMatch)) throw invalid('unknown tags_match', 'trigger.tags_match');
  const tagGroups = checkTagGroups(trigger.tagGroups);
  if (trigger.recallMaxTokens != null && (!Number.isInteger(trigger.recallMaxTokens) || trigger.recallMaxTokens < 1)) {
    throw invalid('recall_max_tokens must be a positive integer', 'trigger.recall_max_tokens');
  }
  return {
    refreshAfterConsolidation: trigger.refreshAfterConsolidation === true,
    refreshCron: trigger.refreshCron ?? null,
    factTypes: trigger.factTypes ?? null,
    tagsMatch: trigger.tagsMatch ?? null,
    tagGroups,
    recallMaxTokens: trigger.recallMaxTokens ?? null,
    excludeMentalModels: trigger.excludeMentalModels === true,
    excludeMentalModelIds: trigger.excludeMentalModelIds ?? null,
  };
}

/** Checked as recall checks a request's, naming the first bad field by its path; none is null. */
function checkTagGroups(groups: unknown[] | null | undefined): TagGroup[] | null {
  if (groups == null || groups.length === 0) return null;
  try {
    return parseTagGroups(groups, 'trigger.tag_groups');
  } catch (error) {
    if (error instanceof InvalidTagGroupError) throw invalid(error.message, 'trigger.tag_groups');
    throw error;
  }
}

function checkMaxTokens(value: number): number {
  if (!Number.isInteger(value) || value < MIN_MODEL_TOKENS || value > MAX_MODEL_TOKENS) {
    throw invalid(`max_tokens must be an integer from ${MIN_MODEL_TOKENS} to ${MAX_MODEL_TOKENS}`, 'max_tokens');
  }
  return value;
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field} cannot be empty`, field);
  return value.trim();
}

export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_ID_LENGTH)
    .replace(/-+$/, '');
  return slug || 'mental-model';
}

function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))];
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function factJson(fact: ReflectFact): Record<string, unknown> {
  return {
    ...fact,
    occurredStart: fact.occurredStart ? new Date(fact.occurredStart).toISOString() : null,
    occurredEnd: fact.occurredEnd ? new Date(fact.occurredEnd).toISOString() : null,
  };
}

export function toModel(row: ModelRow): MentalModel {
  return {
    id: row.id,
    bankId: row.bank_id,
    name: row.name,
    sourceQuery: row.source_query,
    content: row.content,
    basedOn: (row.based_on ?? []).map((fact) => ({
      ...fact,
      occurredStart: fact.occurredStart ? new Date(fact.occurredStart) : null,
      occurredEnd: fact.occurredEnd ? new Date(fact.occurredEnd) : null,
    })),
    tags: row.tags ?? [],
    maxTokens: row.max_tokens,
    trigger: { ...DEFAULT_TRIGGER, ...row.trigger },
    lastRefreshedAt: row.last_refreshed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function invalid(message: string, field: string): MemoryException {
  return new MemoryException(MemoryErrorCode.InvalidInput, message, field);
}

/** There is no code of its own for models: MemoryNotFound carries the 404. */
function notFound(id: string): MemoryException {
  return new MemoryException(MemoryErrorCode.MemoryNotFound, `Mental model '${id}' not found`);
}
