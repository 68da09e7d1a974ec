import { HttpException } from '@nestjs/common';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BanksService } from '../banks/banks.service.js';
import { DirectivesService } from '../directives/directives.service.js';
import { DocumentChunksService } from '../documents/document-chunks.service.js';
import { DirectiveResponse } from '../http/dto/directive.dto.js';
import { parseIsoTimestamp } from '../http/dto/coercions.js';
import { UpdateMemoryRequestDto } from '../http/dto/memory-edit.dto.js';
import {
  CreateMentalModelRequestDto,
  type CreateMentalModelResponse,
  type MentalModelDeletedResponse,
  type MentalModelListResponse,
  type MentalModelRefreshQueuedResponse,
  MentalModelResponse,
  UpdateMentalModelRequestDto,
  toCreateMentalModel,
  toUpdateMentalModel,
} from '../http/dto/mental-model.dto.js';
import { RecallRequestDto } from '../http/dto/recall.dto.js';
import { ReflectRequestDto, ReflectResponse, toReflectRequest } from '../http/dto/reflect.dto.js';
import { RetainRequestDto } from '../http/dto/retain.dto.js';
import { MemoryValidationPipe } from '../http/memory-validation.pipe.js';
import { toIncludeRequest, withRecallIncludes } from '../http/recall-includes.wire.js';
import {
  toBankListWire,
  toBankProfileWire,
  toBankStatsWire,
  toClearedWire,
  toDocumentDeletedWire,
  toDocumentListWire,
  toDocumentWire,
  toEditedMemoryWire,
  toMemoryEdit,
  toMemoryListWire,
  toMemoryWire,
  toOperationCancelledWire,
  toOperationListWire,
  toOperationNotFoundWire,
  toOperationStatusWire,
  toRecallRequest,
  toRecallWire,
  toRetainRequest,
  toTagListWire,
} from '../http/wire.mapper.js';
import { MemoriesService } from '../memories/memories.service.js';
import { MemoryEditService } from '../memories/memory-edit.service.js';
import { MemoryException } from '../memory.exception.js';
import type { InputLimits, ResolvedMemoryOptions } from '../memory.options.js';
import { MentalModelsService } from '../mental-models/mental-models.service.js';
import { OPERATION_STATUSES } from '../operations/operation.types.js';
import { OperationsService } from '../operations/operations.service.js';
import { FACT_TYPES, RECALL_BUDGETS, TAGS_MATCHES } from '../recall/recall.types.js';
import { RecallService } from '../recall/recall.service.js';
import { ReflectService } from '../reflect/reflect.service.js';
import { RetainService } from '../retain/retain.service.js';
import { isUuid } from '../storage/uuid.js';
import { randomUUID } from 'node:crypto';
import { describeResponse, describeToolArguments } from '../audit/audit-content.js';
import { AuditLogService } from '../audit/audit-log.service.js';
import { type AuditScope, currentCaller } from '../audit/audit-scope.js';

/** The module's services the tools call: the same ones the v1 controllers call. */
export interface MemoryToolServices {
  retain: RetainService;
  recall: RecallService;
  reflect: ReflectService;
  banks: BanksService;
  memories: MemoriesService;
  edits: MemoryEditService;
  documents: DocumentChunksService;
  mentalModels: MentalModelsService;
  directives: DirectivesService;
  operations: OperationsService;
  audit: AuditLogService;
  limits: InputLimits;
}

/**
 * Which bank the tools act on. `fixed`: Hindsight's `/mcp/{bank_id}/`, the bank implicit and no
 * `bank_id` parameter. `multi`: Hindsight's `/mcp`, an optional `bank_id` on every tool that falls
 * back to `defaultBankId` (the `X-Bank-Id` header), plus the bank-management tools.
 */
export type BankScope = { mode: 'fixed'; bankId: string } | { mode: 'multi'; defaultBankId: string };

// Hindsight's own hints: read-only tools are marked so, deleting and clearing ones destructive.
const READ_ONLY: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
const WRITES: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };
const DESTRUCTIVE: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, openWorldHint: false };

type Args = Record<string, unknown>;
type Handler = (bankId: string, args: Args, signal: AbortSignal) => Promise<unknown>;

function openToolAudit(audit: AuditLogService, action: string, bankId: string, args: Args): AuditScope | null {
  const caller = currentCaller() ?? { actor: 'anonymous', requestId: randomUUID() };
  const { bank_id: _bank, ...rest } = args;
  return audit.open({ bankId, action, transport: 'mcp', caller, request: describeToolArguments(rest, audit.settings.includeContent) });
}

/** A tool argument the HTTP layer's request DTO refused: answered as a tool error naming it. */
class ToolInputError extends Error {}

/** Where a retain tool's arguments sit in the request it makes: named without it in errors. */
const ONLY_ITEM = 'items.0.';

/** Registers Hindsight's tools, under its names and parameters, for the operations this server has. */
export function registerMemoryTools(server: McpServer, services: MemoryToolServices, scope: BankScope): void {
  const { limits } = services;
  const tag = z.string().min(1).max(limits.maxTagLength);
  const tags = z.array(tag).max(limits.maxTags);
  const query = z.string().trim().min(1).max(limits.maxQueryChars);
  const factType = z.enum(FACT_TYPES as [string, ...string[]]);
  const tagsMatch = z.enum(TAGS_MATCHES as [string, ...string[]]);
  const budget = z.enum(RECALL_BUDGETS as [string, ...string[]]);
  const detail = z.enum(['metadata', 'content', 'full']);
  const limit = (max: number) => z.number().int().min(1).max(max);
  const offset = z.number().int().min(0);
  const timestamp = z
    .string()
    .refine((value) => parseIsoTimestamp(value) !== null, { message: 'must be an ISO 8601 timestamp in years 1 to 9999' });
  const bankIdSchema = z.string().trim().min(1).max(limits.maxBankIdLength);
  const bankIdParam: z.ZodRawShape =
    scope.mode === 'multi'
      ? { bank_id: bankIdSchema.optional().describe(`Bank to act on; defaults to this connection's bank (${scope.defaultBankId}).`) }
      : {};
  const validated = requestValidator(limits);

  const tool = (name: string, description: string, annotations: ToolAnnotations, shape: z.ZodRawShape, handler: Handler) => {
    const inputSchema: z.ZodRawShape = { ...shape, ...bankIdParam };
    server.registerTool(name, { description, annotations, inputSchema }, async (args: Args, extra: { signal: AbortSignal }) => {
      const bankId = scope.mode === 'fixed' ? scope.bankId : ((args.bank_id as string | undefined) ?? scope.defaultBankId);
      // A tool that may write is audited as its route is, under the tool's name (Hindsight's action names are its tools').
      const audit = annotations.readOnlyHint === false ? openToolAudit(services.audit, name, bankId, args) : null;
      try {
        const result = await services.audit.run(audit, () => handler(bankId, args, extra.signal));
        await services.audit.finish(audit, null, describeResponse(result, services.audit.settings.includeContent));
        return asText(result);
      } catch (error) {
        await services.audit.finish(audit, null, { error: error instanceof Error ? error.name : 'Error' });
        if (error instanceof MemoryException) return asError(error.field ? `${error.field}: ${error.message}` : error.message);
        if (error instanceof ToolInputError) return asError(error.message);
        throw error;
      }
    });
  };

  const retainShape = {
    content: z.string().trim().min(1).describe('The fact or memory to store; be specific and include the relevant details.'),
    context: z.string().default('general').describe("Category of the memory, e.g. 'preferences', 'work'. Default 'general'."),
    timestamp: timestamp.optional().describe('When the event happened (ISO 8601). Default: now.'),
    tags: tags.optional().describe("Tags that scope who sees this memory, e.g. ['project:alpha', 'user:123']."),
    metadata: z.record(z.string(), z.string()).optional().describe("Key-value metadata to attach, e.g. {'source': 'slack'}."),
    document_id: z.string().min(1).max(limits.maxDocumentIdLength).optional().describe('Document this memory belongs to.'),
    strategy: z.string().optional().describe('A named retain strategy: not supported here (no retain_strategies); leave it out.'),
  };
  // Through RetainRequestDto and toRetainRequest, as POST …/memories: what that route refuses
  // (a strategy, update_mode 'append') is refused here too, under the argument's own name.
  const retain = async (bankId: string, args: Args, async: boolean, signal: AbortSignal) => {
    const item = pick(args, ['content', 'context', 'timestamp', 'tags', 'metadata', 'document_id', 'strategy', 'update_mode']);
    const body = await validated(RetainRequestDto, { items: [item], async }, ['items', 0]);
    try {
      return await services.retain.retain(bankId, toRetainRequest(body), signal);
    } catch (error) {
      if (error instanceof MemoryException && error.field?.startsWith(ONLY_ITEM)) {
        throw new ToolInputError(`${error.field.slice(ONLY_ITEM.length)}: ${error.message}`);
      }
      throw error;
    }
  };

  tool(
    'retain',
    'Store information in long-term memory, in the background. Use it when the user shares facts about themselves, ' +
      'preferences, decisions, goals, events or project details worth remembering in later conversations. ' +
      'Returns an operation_id; use sync_retain instead when you must recall it right away.',
    WRITES,
    {
      ...retainShape,
      update_mode: z
        .enum(['replace', 'append'])
        .optional()
        .describe("What retaining an existing document_id again does: 'replace' (default) or 'append' to its text."),
    },
    async (bankId, args, signal) => {
      const outcome = await retain(bankId, args, true, signal);
      return { status: 'accepted', message: 'Memory storage initiated', operation_id: outcome.operationId };
    },
  );

  tool(
    'sync_retain',
    'Store information in long-term memory and wait until it is stored and recallable. Use it for read-after-write ' +
      'flows where the next step recalls what was just stored; otherwise prefer retain, which does not block.',
    WRITES,
    retainShape,
    async (bankId, args, signal) => {
      const outcome = await retain(bankId, args, false, signal);
      return { status: 'completed', message: 'Memory stored successfully', memory_ids: outcome.memoryIds };
    },
  );

  tool(
    'recall',
    'Search long-term memory. Use it at the start of a conversation for context, before a recommendation, and ' +
      'whenever the user refers to something they may have said before. Returns the most relevant memories, ' +
      'trimmed to max_tokens.',
    READ_ONLY,
    {
      query: query.describe('Natural-language search, e.g. "user\'s food preferences".'),
      max_tokens: z.number().int().min(1).max(65_536).default(4096).describe('Token budget of the returned memories (default 4096).'),
      budget: budget.default('high').describe("How thoroughly to search: 'low', 'mid' or 'high' (default)."),
      types: z.array(factType).optional().describe("Fact types to include: 'world', 'experience', 'observation'. Default: all."),
      prefer_observations: z
        .boolean()
        .default(false)
        .describe('With observation and a raw type both asked for, drop a raw fact that a returned observation was built from.'),
      tags: tags.optional().describe('Only memories with these tags.'),
      tags_match: tagsMatch.default('any').describe("How tags match: 'any' (default), 'all', 'any_strict', 'all_strict', 'exact'."),
      tag_groups: z
        .array(z.record(z.string(), z.unknown()))
        .optional()
        .describe(
          'Compound tag filters, AND-ed together: a leaf {"tags": [...], "match": "any_strict"} or {"and": [...]}, {"or": [...]}, {"not": {...}}.',
        ),
      query_timestamp: timestamp.optional().describe('Recall as if asked at this moment (ISO 8601); anchors "last week" and recency.'),
      min_scores: z
        .object({ semantic: z.number(), keyword: z.number(), reranker: z.number(), final: z.number() })
        .partial()
        .optional()
        .describe('Per-stage score floors, e.g. {"final": 0.5}; a result without a score from a floored stage is dropped.'),
    },
    async (bankId, args, signal) => {
      const fields = [
        'query',
        'max_tokens',
        'budget',
        'types',
        'prefer_observations',
        'tags',
        'tag_groups',
        'query_timestamp',
        'min_scores',
      ];
      const body = await validated(RecallRequestDto, {
        ...pick(args, fields),
        tags_match: args.tags === undefined ? undefined : args.tags_match,
      });
      const queryTimestamp = body.query_timestamp == null ? undefined : (parseIsoTimestamp(body.query_timestamp) ?? undefined);
      // What POST …/memories/recall does, without its `include` options, which Hindsight's tool does not take.
      const request = toRecallRequest(bankId, body, queryTimestamp);
      const outcome = await services.recall.recall(request, signal);
      const wire = toRecallWire(outcome, body.min_scores) as Parameters<typeof withRecallIncludes>[0];
      const shown = new Set(wire.results.map((result) => result.id));
      const includes = await services.documents.recallIncludes(
        request,
        { ...outcome, results: outcome.results.filter((memory) => shown.has(memory.id)) },
        toIncludeRequest(null),
      );
      return withRecallIncludes(wire, includes);
    },
  );

  tool(
    'reflect',
    "Answer a question by reasoning over everything remembered, with the bank's mission and disposition. Use it " +
      'when analysis or a judgement is needed ("what should I do?", "what do I usually prefer?") rather than the ' +
      'facts themselves, which recall returns.',
    READ_ONLY,
    {
      query: query.describe('The question or topic to reflect on.'),
      context: z.string().optional().describe('Why the reflection is needed; added to the question.'),
      budget: budget.default('low').describe("How widely to search memory: 'low' (default), 'mid', 'high'."),
      max_tokens: z.number().int().min(1).max(65_536).default(4096).describe('Token cap of the answer (default 4096).'),
      response_schema: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("A JSON schema: the answer also comes as 'structured_output' matching it (needs an LLM)."),
      tags: tags.optional().describe('Only memories with these tags.'),
      tags_match: tagsMatch.default('any').describe("How tags match: 'any' (default), 'all', 'any_strict', 'all_strict', 'exact'."),
      apply_all_directives: z.boolean().default(false).describe('Apply every active directive, whatever its tags (default false).'),
      include_based_on: z
        .boolean()
        .default(false)
        .describe('Include the memories and directives the answer was built from (default false: they can be large).'),
      include_trace: z.boolean().default(false).describe('Include the tool and LLM calls of the reflection (default false).'),
    },
    async (bankId, args, signal) => {
      const body = await validated(ReflectRequestDto, {
        ...pick(args, ['query', 'context', 'budget', 'max_tokens', 'response_schema', 'tags', 'apply_all_directives']),
        tags_match: args.tags === undefined ? undefined : args.tags_match,
        include: args.include_trace === true ? { tool_calls: {} } : undefined,
      });
      const wire = ReflectResponse.of(await services.reflect.reflect(bankId, toReflectRequest(body), signal));
      if (args.include_based_on === true) return wire;
      // Hindsight's tool leaves based_on out unless asked: a broad reflection's sources can exceed
      // what an MCP client accepts in one result.
      const { based_on: _basedOn, ...withoutSources } = wire;
      return withoutSources;
    },
  );

  tool(
    'list_memories',
    'Browse stored memories, newest first, optionally by type or text. Use it to review or audit what is stored; use recall to find what is relevant to a question.',
    READ_ONLY,
    {
      type: factType.optional().describe("Only this fact type: 'world', 'experience' or 'observation'."),
      q: z.string().max(limits.maxQueryChars).optional().describe('Only memories whose text contains this.'),
      limit: limit(1000).default(100).describe('At most this many (default 100).'),
      offset: offset.default(0).describe('Skip this many, for paging (default 0).'),
      tags: tags.optional().describe('Only memories with these tags.'),
      tags_match: tagsMatch
        .default('any')
        .describe("How tags match: 'any' (default) and 'all' also take untagged memories; 'any_strict', 'all_strict', 'exact' do not."),
    },
    async (bankId, args) =>
      toMemoryListWire(
        await services.memories.list(bankId, {
          type: args.type as never,
          q: args.q as string | undefined,
          tags: args.tags as string[] | undefined,
          tagsMatch: args.tags === undefined ? undefined : (args.tags_match as never),
          limit: args.limit as number,
          offset: args.offset as number,
        }),
      ),
  );

  tool(
    'get_memory',
    'Read one memory by its id, with its dates, tags, entities and source.',
    READ_ONLY,
    { memory_id: z.string().min(1).describe('The id of the memory.') },
    async (bankId, args) => toMemoryWire(await services.memories.get(bankId, args.memory_id as string)),
  );

  tool(
    'update_memory',
    'Edit a memory to correct what was extracted. Pass any of text, context, occurred_start, occurred_end, fact_type, ' +
      'entities. For context and the dates, "" clears the field and leaving it out keeps it; entities replaces the ' +
      "memory's entity set ([] detaches all). The memory is re-embedded and the observations built on it are redone. " +
      'Only world and experience memories can be edited; observations are derived. To retire or restore one, use invalidate_memory.',
    WRITES,
    {
      memory_id: z.string().min(1).describe('The id of the memory to edit.'),
      text: z.string().optional().describe('The corrected text.'),
      context: z.string().optional().describe('The corrected context; "" clears it.'),
      occurred_start: z.string().optional().describe('When it started (ISO 8601); "" clears it.'),
      occurred_end: z.string().optional().describe('When it ended (ISO 8601); "" clears it.'),
      fact_type: z.enum(['world', 'experience']).optional().describe("'world' or 'experience'."),
      entities: z.array(z.string()).optional().describe('The entities it is about, replacing the current ones.'),
    },
    async (bankId, args, signal) => {
      const fields = ['text', 'context', 'occurred_start', 'occurred_end', 'fact_type', 'entities'];
      const body = await validated(UpdateMemoryRequestDto, pick(args, fields));
      return toEditedMemoryWire(await services.edits.edit(bankId, args.memory_id as string, toMemoryEdit(body), signal));
    },
  );

  tool(
    'invalidate_memory',
    'Retire a world or experience memory that is wrong or no longer true, so recall and reflect stop using it; it stays ' +
      'listed as invalidated, with the reason. restore: true brings an invalidated memory back.',
    DESTRUCTIVE,
    {
      memory_id: z.string().min(1).describe('The id of the memory to retire (or restore).'),
      reason: z.string().optional().describe('Why it is retired; recorded with it.'),
      restore: z.boolean().default(false).describe('Restore a previously invalidated memory instead (default false).'),
    },
    async (bankId, args, signal) => {
      const body = await validated(UpdateMemoryRequestDto, { state: args.restore === true ? 'valid' : 'invalidated', reason: args.reason });
      return toEditedMemoryWire(await services.edits.edit(bankId, args.memory_id as string, toMemoryEdit(body), signal));
    },
  );

  tool(
    'clear_memories',
    'Delete every memory of the bank, or only those of one fact type, keeping the bank itself. Only when the user explicitly asks to forget.',
    DESTRUCTIVE,
    { type: factType.optional().describe("Only this fact type: 'world', 'experience' or 'observation'. Default: all.") },
    async (bankId, args) => toClearedWire(await services.memories.clear(bankId, args.type as never)),
  );

  tool(
    'list_documents',
    'List the documents ingested into the bank (memories retained with a document_id).',
    READ_ONLY,
    {
      q: z.string().max(limits.maxQueryChars).optional().describe('Only documents whose id contains this.'),
      limit: limit(1000).default(100).describe('At most this many (default 100).'),
    },
    async (bankId, args) =>
      toDocumentListWire(
        await services.memories.listDocuments(bankId, { q: args.q as string | undefined, limit: args.limit as number, offset: 0 }),
      ),
  );

  tool(
    'get_document',
    'Read one document by its id, with its text and metadata.',
    READ_ONLY,
    { document_id: z.string().min(1).max(limits.maxDocumentIdLength).describe('The id of the document.') },
    async (bankId, args) => toDocumentWire(await services.memories.getDocument(bankId, args.document_id as string)),
  );

  tool(
    'delete_document',
    'Delete a document and every memory extracted from it.',
    DESTRUCTIVE,
    { document_id: z.string().min(1).max(limits.maxDocumentIdLength).describe('The id of the document.') },
    async (bankId, args) => {
      const documentId = args.document_id as string;
      return toDocumentDeletedWire(documentId, await services.memories.deleteDocument(bankId, documentId));
    },
  );

  const detailParam = detail
    .default('full')
    .describe("'metadata' (names and tags), 'content' (adds the content and settings) or 'full' (adds what it was built from; default).");

  tool(
    'list_mental_models',
    'List the mental models of the bank: living summaries kept current from memory. Read one before recalling when it covers the question.',
    READ_ONLY,
    { tags: tags.optional().describe('Only models with any of these tags.'), detail: detailParam },
    async (bankId, args): Promise<MentalModelListResponse> => {
      const models = await services.mentalModels.list(bankId, { tags: args.tags as string[] | undefined, limit: 100, offset: 0 });
      return { items: models.map((model) => MentalModelResponse.of(model, args.detail as never)) };
    },
  );

  tool(
    'get_mental_model',
    'Read a mental model with its content; is_stale tells whether memories of its scope arrived since its last refresh.',
    READ_ONLY,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.'), detail: detailParam },
    async (bankId, args): Promise<MentalModelResponse> => {
      const id = args.mental_model_id as string;
      if (args.detail !== 'full') return MentalModelResponse.of(await services.mentalModels.get(bankId, id), args.detail as never);
      const { model, isStale } = await services.mentalModels.getWithStaleness(bankId, id);
      return MentalModelResponse.of(model, 'full', isStale);
    },
  );

  tool(
    'create_mental_model',
    'Create a mental model: a summary answering source_query from memory, built in the background and refreshed as memories arrive. ' +
      'Use it for a question that will be asked again and again (a team directory, current projects). Returns an operation_id.',
    WRITES,
    {
      name: z.string().trim().min(1).describe('Human-readable name.'),
      source_query: query.describe('The question the model answers, asked again on every refresh.'),
      mental_model_id: z.string().min(1).optional().describe('Custom id (lowercase letters, digits and hyphens). Default: generated.'),
      tags: tags.optional().describe('Tags of the model; they also scope the memories it is built from.'),
      tags_match: tagsMatch
        .optional()
        .describe("How the model's tags select memories: 'any', 'all', 'any_strict', 'all_strict' or 'exact'."),
      max_tokens: z.number().int().default(2048).describe('Token cap of the content (default 2048).'),
      trigger_refresh_after_consolidation: z.boolean().default(false).describe('Refresh after each consolidation (default false).'),
    },
    async (bankId, args): Promise<CreateMentalModelResponse> => {
      const body = await validated(CreateMentalModelRequestDto, {
        id: args.mental_model_id,
        ...pick(args, ['name', 'source_query', 'tags', 'max_tokens']),
        trigger: { refresh_after_consolidation: args.trigger_refresh_after_consolidation, tags_match: args.tags_match },
      });
      const created = await services.mentalModels.create(bankId, toCreateMentalModel(body));
      return { mental_model_id: created.mentalModelId, operation_id: created.operationId };
    },
  );

  tool(
    'update_mental_model',
    "Change a mental model's name, question, tags, size or refresh setting; only the fields given change.",
    WRITES,
    {
      mental_model_id: z.string().min(1).describe('The id of the mental model.'),
      name: z.string().trim().min(1).optional().describe('New name.'),
      source_query: query.optional().describe('New question.'),
      max_tokens: z.number().int().optional().describe('New token cap.'),
      tags: tags.optional().describe('New tags.'),
      trigger_refresh_after_consolidation: z.boolean().optional().describe('Refresh after each consolidation.'),
    },
    async (bankId, args): Promise<MentalModelResponse> => {
      const refresh = args.trigger_refresh_after_consolidation;
      const body = await validated(UpdateMentalModelRequestDto, {
        ...pick(args, ['name', 'source_query', 'tags', 'max_tokens']),
        trigger: refresh === undefined ? undefined : { refresh_after_consolidation: refresh },
      });
      return MentalModelResponse.of(await services.mentalModels.update(bankId, args.mental_model_id as string, toUpdateMentalModel(body)));
    },
  );

  tool(
    'delete_mental_model',
    'Delete a mental model for good.',
    DESTRUCTIVE,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.') },
    async (bankId, args): Promise<MentalModelDeletedResponse> => {
      await services.mentalModels.delete(bankId, args.mental_model_id as string);
      return { status: 'deleted' };
    },
  );

  tool(
    'refresh_mental_model',
    "Rebuild a mental model's content from the latest memories, in the background. Returns an operation_id.",
    WRITES,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.') },
    async (bankId, args): Promise<MentalModelRefreshQueuedResponse> => ({
      operation_id: await services.mentalModels.refresh(bankId, args.mental_model_id as string),
      status: 'queued',
    }),
  );

  tool(
    'clear_mental_model',
    "Empty a mental model's content and keep its definition; call refresh_mental_model to rebuild it.",
    DESTRUCTIVE,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.') },
    async (bankId, args): Promise<MentalModelResponse> =>
      MentalModelResponse.of(await services.mentalModels.clear(bankId, args.mental_model_id as string)),
  );

  tool(
    'list_directives',
    'List the directives of the bank: standing rules that reflect and mental models follow. Without tags, every directive; with tags, the untagged ones and those sharing a tag.',
    READ_ONLY,
    {
      tags: tags.optional().describe('Only untagged directives and those with any of these tags.'),
      active_only: z.boolean().default(true).describe('Only active directives (default true).'),
    },
    async (bankId, args) => {
      const directives = await services.directives.list(bankId, {
        tags: (args.tags as string[] | undefined) ?? [],
        tagsMatch: 'any',
        activeOnly: args.active_only as boolean,
        limit: 100,
        offset: 0,
      });
      return { items: directives.map(DirectiveResponse.of) };
    },
  );

  tool(
    'create_directive',
    'Add a standing rule that reflect and mental models must follow (e.g. "Always answer in French"). Use it when the user states how answers should always be given.',
    WRITES,
    {
      name: z.string().trim().min(1).describe('Human-readable name.'),
      content: z.string().trim().min(1).describe('The rule itself.'),
      priority: z.number().int().default(0).describe('Higher comes first (default 0).'),
      is_active: z.boolean().default(true).describe('Whether it applies now (default true).'),
      tags: tags.optional().describe('Scope: untagged (default) applies everywhere; tagged only to requests with matching tags.'),
    },
    async (bankId, args) =>
      DirectiveResponse.of(
        await services.directives.create(bankId, {
          name: args.name as string,
          content: args.content as string,
          priority: args.priority as number,
          isActive: args.is_active as boolean,
          tags: args.tags as string[] | undefined,
        }),
      ),
  );

  tool(
    'delete_directive',
    'Delete a directive by its id.',
    DESTRUCTIVE,
    { directive_id: z.string().min(1).describe('The id of the directive.') },
    async (bankId, args) => {
      await services.directives.delete(bankId, args.directive_id as string);
      return { status: 'deleted' };
    },
  );

  tool(
    'list_operations',
    'List background operations (retains, mental model refreshes, consolidation), newest first. Use it to see whether stored work is done.',
    READ_ONLY,
    {
      status: z
        .enum(OPERATION_STATUSES as unknown as [string, ...string[]])
        .optional()
        .describe('Only operations with this status.'),
      limit: limit(1000).default(20).describe('At most this many (default 20).'),
    },
    async (bankId, args) => {
      await services.banks.assertExists(bankId);
      const page = await services.operations.list(bankId, { status: args.status as never, limit: args.limit as number, offset: 0 });
      return toOperationListWire(bankId, page, args.limit as number, 0);
    },
  );

  tool(
    'get_operation',
    'Status of one background operation, e.g. the operation_id retain returned.',
    READ_ONLY,
    { operation_id: z.string().refine(isUuid, { message: 'must be a UUID' }).describe('The id of the operation.') },
    async (bankId, args) => {
      await services.banks.assertExists(bankId);
      const operationId = args.operation_id as string;
      const operation = await services.operations.get(bankId, operationId);
      return operation ? toOperationStatusWire(operation, false) : toOperationNotFoundWire(operationId);
    },
  );

  tool(
    'cancel_operation',
    'Cancel a background operation that has not started yet; one already running finishes on its own.',
    WRITES,
    { operation_id: z.string().refine(isUuid, { message: 'must be a UUID' }).describe('The id of the operation.') },
    async (bankId, args) => {
      const operationId = args.operation_id as string;
      await services.operations.cancel(bankId, operationId);
      return toOperationCancelledWire(operationId);
    },
  );

  tool(
    'list_tags',
    'List the tags used in the bank with how many memories carry each, to pick tags for retain, recall and reflect.',
    READ_ONLY,
    {
      q: z.string().max(limits.maxTagLength).optional().describe("Glob pattern on tags, e.g. 'project:*'."),
      limit: limit(1000).default(100).describe('At most this many (default 100).'),
    },
    async (bankId, args) =>
      toTagListWire(await services.memories.listTags(bankId, { q: args.q as string | undefined, limit: args.limit as number, offset: 0 })),
  );

  tool('get_bank', "The bank's profile: name, mission and disposition.", READ_ONLY, {}, async (bankId) =>
    toBankProfileWire(await services.banks.profile(bankId)),
  );

  tool(
    'update_bank',
    "Change the bank's name, mission or any other setting; only the fields given change.",
    WRITES,
    {
      name: z.string().trim().min(1).optional().describe('New display name.'),
      mission: z
        .string()
        .optional()
        .describe('Who the agent is and what it is trying to achieve; guides reflect. Same as config_updates.reflect_mission.'),
      config_updates: z
        .record(z.string(), z.unknown())
        .optional()
        .describe(
          'Bank settings to change, as PATCH …/config takes them: reflect_mission, retain_mission, retain_extraction_mode, enable_observations, disposition_skepticism (1-5), … An unknown key is refused.',
        ),
    },
    async (bankId, args) => {
      const config = { ...((args.config_updates as Record<string, unknown> | undefined) ?? {}) };
      if (args.mission !== undefined && !('reflect_mission' in config)) config.reflect_mission = args.mission;
      // One transaction, which checks every key before it writes: a bad key changes nothing.
      return toBankProfileWire(await services.banks.update(bankId, { name: args.name as string | undefined, config }));
    },
  );

  tool(
    'delete_bank',
    'Delete the bank and everything in it (memories, documents, mental models). Only when the user explicitly asks.',
    DESTRUCTIVE,
    {},
    async (bankId) => {
      const deleted = await services.banks.delete(bankId);
      return { success: true, bank_id: bankId, deleted_count: deleted };
    },
  );

  if (scope.mode !== 'multi') return;

  server.registerTool(
    'list_banks',
    { description: 'List the memory banks on this server, to choose a bank_id for the other tools.', annotations: READ_ONLY },
    async () => {
      try {
        return asText(toBankListWire(await services.banks.list()));
      } catch (error) {
        if (error instanceof MemoryException) return asError(error.message);
        throw error;
      }
    },
  );

  server.registerTool(
    'create_bank',
    {
      description: 'Create a memory bank, or return the existing one with that id; name and mission are applied when given.',
      annotations: WRITES,
      inputSchema: {
        bank_id: bankIdSchema.describe('Id of the bank.'),
        name: z.string().trim().min(1).optional().describe('Display name.'),
        mission: z.string().optional().describe('Who the agent is and what it is trying to achieve.'),
      },
    },
    async (args) => {
      try {
        const mission = args.mission;
        return asText(
          toBankProfileWire(
            await services.banks.upsert(args.bank_id, { name: args.name, config: mission ? { reflect_mission: mission } : {} }),
          ),
        );
      } catch (error) {
        if (error instanceof MemoryException) return asError(error.message);
        throw error;
      }
    },
  );

  tool('get_bank_stats', "The bank's statistics: memory, entity, link and document counts.", READ_ONLY, {}, async (bankId) =>
    toBankStatsWire(await services.banks.stats(bankId)),
  );
}

/**
 * Checks a tool's arguments with the request DTO of the matching HTTP route, so both refuse the
 * same input with the same words. `prefix` is where the tool's own arguments sit in that body.
 */
function requestValidator(limits: InputLimits) {
  const pipe = new MemoryValidationPipe({ limits } as ResolvedMemoryOptions);
  return async <T>(dto: new () => T, body: Args, prefix: Array<string | number> = []): Promise<T> => {
    try {
      return (await pipe.transform(body, { type: 'body', metatype: dto })) as T;
    } catch (error) {
      if (!(error instanceof HttpException)) throw error;
      const issues = (error.getResponse() as { detail?: Array<{ loc: Array<string | number>; msg: string }> }).detail ?? [];
      const named = issues.map(({ loc, msg }) => {
        const path = loc.slice(1);
        const own = prefix.every((part, i) => path[i] === part) ? path.slice(prefix.length) : path;
        return own.length ? `${own.join('.')}: ${msg}` : msg;
      });
      throw new ToolInputError(named.join('; ') || error.message);
    }
  };
}

/** The arguments that were given, under the names the HTTP body uses for them. */
function pick(args: Args, names: string[]): Args {
  return Object.fromEntries(names.filter((name) => args[name] !== undefined).map((name) => [name, args[name]]));
}

/** Compact JSON, the same object the HTTP API answers: indentation only costs the model tokens. */
function asText(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

function asError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

type Resolve = <T>(token: abstract new (...args: never[]) => T) => T;

/** The tools' services out of a Nest container (`app.get` or `moduleRef.get`). */
export function resolveMemoryToolServices(resolve: Resolve, limits: InputLimits): MemoryToolServices {
  return {
    retain: resolve(RetainService),
    recall: resolve(RecallService),
    reflect: resolve(ReflectService),
    banks: resolve(BanksService),
    memories: resolve(MemoriesService),
    edits: resolve(MemoryEditService),
    documents: resolve(DocumentChunksService),
    mentalModels: resolve(MentalModelsService),
    directives: resolve(DirectivesService),
    operations: resolve(OperationsService),
    audit: resolve(AuditLogService),
    limits,
  };
}
