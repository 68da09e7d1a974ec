import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BanksService } from '../banks/banks.service.js';
import { DirectivesService } from '../directives/directives.service.js';
import { DirectiveResponse } from '../http/dto/directive.dto.js';
import { parseIsoTimestamp } from '../http/dto/coercions.js';
import {
  toBankListWire,
  toBankProfileWire,
  toBankStatsWire,
  toClearedWire,
  toDocumentDeletedWire,
  toDocumentListWire,
  toDocumentWire,
  toMemoryListWire,
  toMemoryWire,
  toMentalModelCreatedWire,
  toMentalModelListWire,
  toMentalModelWire,
  toOperationCancelledWire,
  toOperationListWire,
  toOperationNotFoundWire,
  toOperationQueuedWire,
  toOperationStatusWire,
  toRecallWire,
  toReflectWire,
  toTagListWire,
} from '../http/wire.mapper.js';
import { MemoriesService } from '../memories/memories.service.js';
import { MemoryException } from '../memory.exception.js';
import type { InputLimits } from '../memory.options.js';
import { MentalModelsService } from '../mental-models/mental-models.service.js';
import { OPERATION_STATUSES } from '../operations/operation.types.js';
import { OperationsService } from '../operations/operations.service.js';
import { FACT_TYPES, RECALL_BUDGETS, TAGS_MATCHES } from '../recall/recall.types.js';
import { RecallService } from '../recall/recall.service.js';
import { ReflectService } from '../reflect/reflect.service.js';
import { RetainService } from '../retain/retain.service.js';
import { isUuid } from '../storage/uuid.js';

/** The module's services the tools call: the same ones the v1 controllers call. */
export interface MemoryToolServices {
  retain: RetainService;
  recall: RecallService;
  reflect: ReflectService;
  banks: BanksService;
  memories: MemoriesService;
  mentalModels: MentalModelsService;
  directives: DirectivesService;
  operations: OperationsService;
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

/** Registers Hindsight's tools, under its names and parameters, for the operations this server has. */
export function registerMemoryTools(server: McpServer, services: MemoryToolServices, scope: BankScope): void {
  const { limits } = services;
  const tag = z.string().min(1).max(limits.maxTagLength);
  const tags = z.array(tag).max(limits.maxTags);
  const query = z.string().trim().min(1).max(limits.maxQueryChars);
  const factType = z.enum(FACT_TYPES as [string, ...string[]]);
  const tagsMatch = z.enum(TAGS_MATCHES as [string, ...string[]]);
  const budget = z.enum(RECALL_BUDGETS as [string, ...string[]]);
  const limit = (max: number) => z.number().int().min(1).max(max);
  const offset = z.number().int().min(0);
  const timestamp = z.string().refine((value) => parseIsoTimestamp(value) !== null, { message: 'must be an ISO 8601 timestamp' });
  const bankIdSchema = z.string().trim().min(1).max(limits.maxBankIdLength);
  const bankIdParam: z.ZodRawShape =
    scope.mode === 'multi'
      ? { bank_id: bankIdSchema.optional().describe(`Bank to act on; defaults to this connection's bank (${scope.defaultBankId}).`) }
      : {};

  const tool = (name: string, description: string, annotations: ToolAnnotations, shape: z.ZodRawShape, handler: Handler) => {
    const inputSchema: z.ZodRawShape = { ...shape, ...bankIdParam };
    server.registerTool(name, { description, annotations, inputSchema }, async (args: Args, extra: { signal: AbortSignal }) => {
      const bankId = scope.mode === 'fixed' ? scope.bankId : ((args.bank_id as string | undefined) ?? scope.defaultBankId);
      try {
        return asText(await handler(bankId, args, extra.signal));
      } catch (error) {
        if (error instanceof MemoryException) return asError(error.field ? `${error.field}: ${error.message}` : error.message);
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
  };
  const retainItem = (args: Args) => ({
    content: args.content as string,
    context: args.context as string,
    timestamp: args.timestamp === undefined ? undefined : parseIsoTimestamp(args.timestamp as string),
    tags: (args.tags as string[] | undefined) ?? null,
    metadata: (args.metadata as Record<string, string> | undefined) ?? null,
    documentId: (args.document_id as string | undefined) ?? null,
  });

  tool(
    'retain',
    'Store information in long-term memory, in the background. Use it when the user shares facts about themselves, ' +
      'preferences, decisions, goals, events or project details worth remembering in later conversations. ' +
      'Returns an operation_id; use sync_retain instead when you must recall it right away.',
    WRITES,
    retainShape,
    async (bankId, args, signal) => {
      const outcome = await services.retain.retain(bankId, { async: true, items: [retainItem(args)] }, signal);
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
      const outcome = await services.retain.retain(bankId, { async: false, items: [retainItem(args)] }, signal);
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
      tags: tags.optional().describe('Only memories with these tags.'),
      tags_match: tagsMatch.default('any').describe("How tags match: 'any' (default), 'all', 'any_strict', 'all_strict', 'exact'."),
      query_timestamp: timestamp.optional().describe('Recall as if asked at this moment (ISO 8601); anchors "last week" and recency.'),
    },
    async (bankId, args, signal) => {
      await services.banks.assertExists(bankId);
      const outcome = await services.recall.recall(
        {
          bankId,
          query: args.query as string,
          types: args.types as never,
          budget: args.budget as never,
          maxTokens: args.max_tokens as number,
          queryTimestamp: args.query_timestamp === undefined ? undefined : (parseIsoTimestamp(args.query_timestamp as string) ?? undefined),
          tags: args.tags as string[] | undefined,
          tagsMatch: args.tags === undefined ? undefined : (args.tags_match as never),
        },
        signal,
      );
      return toRecallWire(outcome);
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
      tags: tags.optional().describe('Only memories with these tags.'),
      tags_match: tagsMatch.default('any').describe("How tags match: 'any' (default), 'all', 'any_strict', 'all_strict', 'exact'."),
    },
    async (bankId, args, signal) => {
      const outcome = await services.reflect.reflect(
        bankId,
        {
          query: args.query as string,
          context: (args.context as string | undefined) ?? null,
          budget: args.budget as never,
          maxTokens: args.max_tokens as number,
          tags: args.tags as string[] | undefined,
          tagsMatch: args.tags === undefined ? undefined : (args.tags_match as never),
        },
        signal,
      );
      return toReflectWire(outcome);
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
    },
    async (bankId, args) =>
      toMemoryListWire(
        await services.memories.list(bankId, {
          type: args.type as never,
          q: args.q as string | undefined,
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

  tool(
    'list_mental_models',
    'List the mental models of the bank: living summaries kept current from memory. Read one before recalling when it covers the question.',
    READ_ONLY,
    { tags: tags.optional().describe('Only models with any of these tags.') },
    async (bankId, args) =>
      toMentalModelListWire(
        await services.mentalModels.list(bankId, { tags: args.tags as string[] | undefined, limit: 100, offset: 0 }),
        'metadata',
      ),
  );

  tool(
    'get_mental_model',
    'Read a mental model with its full content.',
    READ_ONLY,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.') },
    async (bankId, args) => toMentalModelWire(await services.mentalModels.get(bankId, args.mental_model_id as string)),
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
      max_tokens: z.number().int().min(1).max(65_536).default(2048).describe('Token cap of the content (default 2048).'),
      trigger_refresh_after_consolidation: z.boolean().default(false).describe('Refresh after each consolidation (default false).'),
    },
    async (bankId, args) =>
      toMentalModelCreatedWire(
        await services.mentalModels.create(bankId, {
          id: (args.mental_model_id as string | undefined) ?? null,
          name: args.name as string,
          sourceQuery: args.source_query as string,
          tags: args.tags as string[] | undefined,
          maxTokens: args.max_tokens as number,
          trigger: { refreshAfterConsolidation: args.trigger_refresh_after_consolidation as boolean },
        }),
      ),
  );

  tool(
    'update_mental_model',
    "Change a mental model's name, question, tags, size or refresh setting; only the fields given change.",
    WRITES,
    {
      mental_model_id: z.string().min(1).describe('The id of the mental model.'),
      name: z.string().trim().min(1).optional().describe('New name.'),
      source_query: query.optional().describe('New question.'),
      tags: tags.optional().describe('New tags.'),
      max_tokens: z.number().int().min(1).max(65_536).optional().describe('New token cap.'),
      trigger_refresh_after_consolidation: z.boolean().optional().describe('Refresh after each consolidation.'),
    },
    async (bankId, args) => {
      const refresh = args.trigger_refresh_after_consolidation as boolean | undefined;
      return toMentalModelWire(
        await services.mentalModels.update(bankId, args.mental_model_id as string, {
          name: args.name as string | undefined,
          sourceQuery: args.source_query as string | undefined,
          tags: args.tags as string[] | undefined,
          maxTokens: args.max_tokens as number | undefined,
          trigger: refresh === undefined ? undefined : { refreshAfterConsolidation: refresh },
        }),
      );
    },
  );

  tool(
    'delete_mental_model',
    'Delete a mental model for good.',
    DESTRUCTIVE,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.') },
    async (bankId, args) => {
      await services.mentalModels.delete(bankId, args.mental_model_id as string);
      return { success: true };
    },
  );

  tool(
    'refresh_mental_model',
    "Rebuild a mental model's content from the latest memories, in the background. Returns an operation_id.",
    WRITES,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.') },
    async (bankId, args) => toOperationQueuedWire(await services.mentalModels.refresh(bankId, args.mental_model_id as string)),
  );

  tool(
    'clear_mental_model',
    "Empty a mental model's content and keep its definition; call refresh_mental_model to rebuild it.",
    DESTRUCTIVE,
    { mental_model_id: z.string().min(1).describe('The id of the mental model.') },
    async (bankId, args) => toMentalModelWire(await services.mentalModels.clear(bankId, args.mental_model_id as string)),
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
      priority: z.number().int().optional().describe('Higher comes first (default 0).'),
      is_active: z.boolean().default(true).describe('Whether it applies now (default true).'),
      tags: tags.optional().describe('Scope: untagged (default) applies everywhere; tagged only to requests with matching tags.'),
    },
    async (bankId, args) =>
      DirectiveResponse.of(
        await services.directives.create(bankId, {
          name: args.name as string,
          content: args.content as string,
          priority: args.priority as number | undefined,
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
      limit: limit(1000).default(100).describe('At most this many (default 100).'),
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
    "Change the bank's name or mission; only the fields given change.",
    WRITES,
    {
      name: z.string().trim().min(1).optional().describe('New display name.'),
      mission: z.string().optional().describe('Who the agent is and what it is trying to achieve; guides reflect.'),
    },
    async (bankId, args) => {
      const mission = args.mission as string | undefined;
      return toBankProfileWire(
        await services.banks.update(bankId, {
          name: args.name as string | undefined,
          config: mission === undefined ? {} : { reflect_mission: mission },
        }),
      );
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
    mentalModels: resolve(MentalModelsService),
    directives: resolve(DirectivesService),
    operations: resolve(OperationsService),
    limits,
  };
}
