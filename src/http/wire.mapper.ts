/**
 * The one place where domain objects (camelCase, Dates) become Hindsight's wire shapes
 * (snake_case, ISO strings), and request DTOs become domain requests.
 *
 * Null handling follows the original server: routes whose response model has no required
 * nullable field drop null fields (`response_model_exclude_none`); DocumentResponse and the
 * operations list keep explicit nulls; the untyped memory and document dictionaries are emitted
 * in full, nulls included.
 */
import type { BankConfig, BankProfile, BankStats, BankSummary, BankUpdate } from '../banks/banks.service.js';
import type { EditedMemory, MemoryEdit } from '../memories/memory-edit.service.js';
import type { DocumentRecord, MemoryRecord, Page } from '../memories/memory.types.js';
import type { Operation } from '../operations/operation.types.js';
import type { RecallOutcome, RecalledMemory, RecallRequest } from '../recall/recall.types.js';
import type { RetainItem, RetainOutcome, RetainRequest } from '../retain/retain.types.js';
import type { CreateBankRequestDto } from './dto/bank.dto.js';
import { parseIsoTimestamp } from './dto/coercions.js';
import type { UpdateMemoryRequestDto } from './dto/memory-edit.dto.js';
import type { MinScoresDto, RecallRequestDto } from './dto/recall.dto.js';
import { TokenUsageResponse } from './dto/reflect.dto.js';
import type { RetainRequestDto } from './dto/retain.dto.js';
import type { CreateWebhookRequestDto, UpdateWebhookRequestDto } from './dto/webhook.dto.js';
import type { CreateWebhook, UpdateWebhook, Webhook, WebhookDelivery } from '../webhooks/webhook.types.js';

type Json = Record<string, unknown>;

const FACT_TYPES = ['world', 'experience', 'observation'] as const;

// ---------------------------------------------------------------------------------------------
// Requests

/** The config keys `CreateBankRequest` carries besides name, mission aliases and disposition. */
const BANK_CONFIG_FIELDS = [
  'retain_mission',
  'retain_extraction_mode',
  'retain_custom_instructions',
  'retain_chunk_size',
  'retain_structured_chunk_size',
  'enable_observations',
  'observations_mission',
  'enable_temporal_retrieval',
  'enable_graph_retrieval',
  'enable_reranking',
] as const;

/** Null and absent both leave a field as it was. `reflect_mission` > `mission` > `background`. */
export function toBankUpdate(body: CreateBankRequestDto): BankUpdate {
  const config: Json = {};
  const mission = body.reflect_mission ?? body.mission ?? body.background;
  if (mission != null) config.reflect_mission = mission;
  for (const key of BANK_CONFIG_FIELDS) {
    if (body[key] != null) config[key] = body[key];
  }
  const disposition = {
    ...definedOnly({
      skepticism: body.disposition?.skepticism,
      literalism: body.disposition?.literalism,
      empathy: body.disposition?.empathy,
    }),
    ...definedOnly({
      skepticism: body.disposition_skepticism,
      literalism: body.disposition_literalism,
      empathy: body.disposition_empathy,
    }),
  };
  return { name: body.name ?? undefined, disposition, config };
}

export function toRetainRequest(body: RetainRequestDto): RetainRequest {
  return {
    async: body.async === true,
    documentTags: body.document_tags ?? null,
    operationId: body.operation_id ?? null,
    items: body.items.map((item): RetainItem => ({
      content: item.content,
      // Wire: absent or null = now, 'unset' = no event time. Domain: undefined = now, null = none.
      timestamp: item.timestamp == null ? undefined : item.timestamp === 'unset' ? null : parseIsoTimestamp(item.timestamp),
      context: item.context ?? null,
      metadata: item.metadata ?? null,
      documentId: item.document_id ?? null,
      entities: item.entities?.map((entity) => ({ text: entity.text, type: entity.type ?? null })) ?? null,
      tags: item.tags ?? null,
      observationScopes: (item.observation_scopes ?? null) as RetainItem['observationScopes'],
      updateMode: item.update_mode ?? null,
    })),
  };
}

/** `include: {}` means the defaults (entities on, 500 tokens); `include.entities: null` means none. */
export function toRecallRequest(bankId: string, body: RecallRequestDto, queryTimestamp: Date | undefined): RecallRequest {
  const entities = body.include?.entities;
  return {
    bankId,
    query: body.query,
    types: body.types ?? undefined,
    budget: body.budget ?? undefined,
    maxTokens: body.max_tokens ?? undefined,
    trace: body.trace === true,
    queryTimestamp,
    tags: body.tags ?? undefined,
    tagsMatch: body.tags_match ?? undefined,
    tagGroups: body.tag_groups ?? undefined,
    preferObservations: body.prefer_observations === true,
    includeEntities: entities === null ? null : entities === undefined ? undefined : { maxTokens: entities.max_tokens ?? 500 },
    bankMustExist: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Banks

export function toBankProfileWire(profile: BankProfile): Json {
  return {
    bank_id: profile.bankId,
    name: profile.name,
    disposition: { ...profile.disposition },
    mission: profile.mission,
    background: profile.mission,
  };
}

export function toBankListWire(banks: BankSummary[]): Json {
  return {
    banks: banks.map((bank) =>
      withoutNulls({
        bank_id: bank.bankId,
        name: bank.name,
        disposition: { ...bank.disposition },
        mission: bank.mission,
        created_at: iso(bank.createdAt),
        updated_at: iso(bank.updatedAt),
        fact_count: bank.factCount,
        last_document_at: iso(bank.lastDocumentAt),
        last_write_at: iso(bank.lastWriteAt),
      }),
    ),
  };
}

export function toBankConfigWire(config: BankConfig): Json {
  return { bank_id: config.bankId, config: config.config, overrides: config.overrides };
}

export function toBankStatsWire(stats: BankStats): Json {
  const nodesByFactType = Object.fromEntries(FACT_TYPES.map((type) => [type, stats.memoriesByType[type] ?? 0]));
  for (const [type, count] of Object.entries(stats.memoriesByType)) nodesByFactType[type] = count;
  const linksByLinkType = { entity: stats.totalLinks };
  return withoutNulls({
    bank_id: stats.bankId,
    total_nodes: stats.totalMemories,
    total_links: stats.totalLinks,
    total_documents: stats.totalDocuments,
    nodes_by_fact_type: nodesByFactType,
    links_by_link_type: linksByLinkType,
    links_by_fact_type: {},
    links_breakdown: {},
    pending_operations: (stats.operationsByStatus.pending ?? 0) + (stats.operationsByStatus.processing ?? 0),
    failed_operations: stats.operationsByStatus.failed ?? 0,
    operations_by_status: stats.operationsByStatus,
    last_consolidated_at: iso(stats.lastConsolidatedAt),
    last_memory_write_at: iso(stats.lastMemoryWriteAt),
    pending_consolidation: stats.pendingConsolidation,
    failed_consolidation: stats.failedConsolidation,
    total_observations: stats.memoriesByType.observation ?? 0,
  });
}

export function toBankDeletedWire(bankId: string, deletedCount: number): Json {
  return { success: true, message: `Bank '${bankId}' and all associated data deleted successfully`, deleted_count: deletedCount };
}

// ---------------------------------------------------------------------------------------------
// Retain and recall

export function toRetainWire(outcome: RetainOutcome): Json {
  const base = { success: true, bank_id: outcome.bankId, items_count: outcome.itemsCount, async: outcome.async };
  if (outcome.async) return { ...base, operation_id: outcome.operationId };
  return {
    ...base,
    usage: TokenUsageResponse.of(outcome.usage),
  };
}

export function toRecallWire(outcome: RecallOutcome, minScores?: MinScoresDto | null): Json {
  const results = outcome.results.filter((memory) => meetsMinScores(memory, minScores));
  return withoutNulls({
    results: results.map(toRecallResultWire),
    entities: outcome.entities
      ? Object.fromEntries(
          Object.entries(outcome.entities).map(([name, entity]) => [
            name,
            {
              entity_id: entity.entityId,
              canonical_name: entity.canonicalName,
              observations: entity.observations.map((observation) =>
                withoutNulls({ text: observation.text, mentioned_at: iso(observation.mentionedAt) }),
              ),
            },
          ]),
        )
      : null,
    trace: outcome.trace
      ? { ...(toSnakeCase(outcome.trace) as Json), num_results: results.length, time_seconds: outcome.trace.totalMs / 1000 }
      : null,
  });
}

function toRecallResultWire(memory: RecalledMemory): Json {
  return withoutNulls({
    id: memory.id,
    text: memory.text,
    type: memory.type,
    entities: memory.entities,
    context: memory.context,
    occurred_start: iso(memory.occurredStart),
    occurred_end: iso(memory.occurredEnd),
    mentioned_at: iso(memory.mentionedAt),
    document_id: memory.documentId,
    metadata: memory.metadata,
    tags: memory.tags,
    source_fact_ids: memory.sourceMemoryIds,
    scores: withoutNulls({
      final: memory.scores.final,
      semantic: memory.scores.semantic,
      keyword: memory.scores.keyword,
      reranker: memory.scores.reranker,
    }),
  });
}

/** A floor on a stage drops results without a score from that stage, as they never reached it. */
function meetsMinScores(memory: RecalledMemory, minScores?: MinScoresDto | null): boolean {
  if (!minScores) return true;
  return (['final', 'semantic', 'keyword', 'reranker'] as const).every((stage) => {
    const floor = minScores[stage];
    if (floor == null) return true;
    const score = memory.scores[stage];
    return score !== undefined && score >= floor;
  });
}

// ---------------------------------------------------------------------------------------------
// Memories, documents, entities, tags

export function toMemoryListWire(page: Page<MemoryRecord>): Json {
  return { items: page.items.map(toMemoryListItemWire), total: page.total, limit: page.limit, offset: page.offset };
}

function toMemoryListItemWire(memory: MemoryRecord): Json {
  return {
    id: memory.id,
    text: memory.text,
    context: memory.context ?? '',
    date: eventDate(memory),
    fact_type: memory.type,
    document_id: memory.documentId,
    mentioned_at: iso(memory.mentionedAt),
    occurred_start: iso(memory.occurredStart),
    occurred_end: iso(memory.occurredEnd),
    entities: memory.entities.join(', '),
    chunk_id: memory.chunkId ?? null,
    proof_count: memory.proofCount ?? 1,
    tags: memory.tags,
    metadata: memory.metadata,
    consolidated_at: iso(memory.consolidatedAt ?? null),
    consolidation_failed_at: null,
    state: memory.state,
    invalidation_reason: memory.invalidationReason ?? null,
    invalidated_at: iso(memory.invalidatedAt ?? null),
    edited_at: iso(memory.editedAt ?? null),
    updated_at: iso(memory.updatedAt),
    source_memory_ids: memory.sourceMemoryIds ?? [],
  };
}

export function toMemoryWire(memory: MemoryRecord): Json {
  const wire: Json = {
    id: memory.id,
    text: memory.text,
    context: memory.context ?? '',
    date: eventDate(memory),
    type: memory.type,
    mentioned_at: iso(memory.mentionedAt),
    occurred_start: iso(memory.occurredStart),
    occurred_end: iso(memory.occurredEnd),
    entities: memory.entities,
    document_id: memory.documentId,
    chunk_id: memory.chunkId ?? null,
    tags: memory.tags,
    metadata: memory.metadata,
    observation_scopes: memory.observationScopes,
    state: memory.state,
    invalidation_reason: memory.invalidationReason ?? null,
    invalidated_at: iso(memory.invalidatedAt ?? null),
    edited_at: iso(memory.editedAt ?? null),
    superseded_by: memory.supersededBy,
    superseded_at: iso(memory.supersededAt),
  };
  if (memory.type === 'observation') {
    wire.history = [];
    wire.source_memory_ids = memory.sourceMemoryIds ?? [];
  }
  return wire;
}

export function toClearedWire(deletedCount: number): Json {
  return { success: true, deleted_count: deletedCount };
}

export function toDocumentListWire(page: Page<DocumentRecord>): Json {
  return {
    items: page.items.map((document) => ({
      id: document.id,
      bank_id: document.bankId,
      content_hash: document.contentHash,
      created_at: iso(document.createdAt),
      updated_at: iso(document.updatedAt),
      text_length: document.originalText?.length ?? 0,
      memory_unit_count: document.memoryUnitCount,
      retain_params: null,
      document_metadata: document.metadata,
      tags: document.tags,
    })),
    total: page.total,
    limit: page.limit,
    offset: page.offset,
  };
}

/** DocumentResponse has required nullable fields, so its nulls are emitted, never dropped. */
export function toDocumentWire(document: DocumentRecord): Json {
  return {
    id: document.id,
    bank_id: document.bankId,
    original_text: document.originalText,
    content_hash: document.contentHash,
    created_at: iso(document.createdAt),
    updated_at: iso(document.updatedAt),
    memory_unit_count: document.memoryUnitCount,
    nodes_by_fact_type: document.memoriesByType,
    tags: document.tags,
    document_metadata: document.metadata,
    retain_params: null,
    observation_scopes: null,
  };
}

export function toDocumentDeletedWire(documentId: string, memoriesDeleted: number): Json {
  return {
    success: true,
    message: `Document '${documentId}' and ${memoriesDeleted} associated memory units deleted successfully`,
    document_id: documentId,
    memory_units_deleted: memoriesDeleted,
  };
}

export function toTagListWire(page: Page<{ tag: string; count: number }>): Json {
  return { items: page.items.map(({ tag, count }) => ({ tag, count })), total: page.total, limit: page.limit, offset: page.offset };
}

// ---------------------------------------------------------------------------------------------
// Memory edits

/** Null counts as absent; `context: ''` and a date `''` clear the field. */
export function toMemoryEdit(body: UpdateMemoryRequestDto): MemoryEdit {
  const edit: MemoryEdit = {
    text: body.text ?? undefined,
    context: body.context ?? undefined,
    state: body.state ?? undefined,
    reason: body.reason ?? undefined,
    tags: body.tags ?? undefined,
  };
  if (body.occurred_start != null) edit.occurredStart = body.occurred_start === '' ? null : parseIsoTimestamp(body.occurred_start);
  if (body.occurred_end != null) edit.occurredEnd = body.occurred_end === '' ? null : parseIsoTimestamp(body.occurred_end);
  if (body.fact_type != null) edit.factType = body.fact_type;
  if (body.entities != null) edit.entities = body.entities;
  return edit;
}

/** The GET shape, with the stamps the edit left. */
export function toEditedMemoryWire(memory: EditedMemory): Json {
  return {
    ...toMemoryWire(memory),
    invalidation_reason: memory.invalidationReason,
    invalidated_at: iso(memory.invalidatedAt),
    edited_at: iso(memory.editedAt),
  };
}

// ---------------------------------------------------------------------------------------------
// Operations

/** OperationsListResponse keeps its nulls (`error_message` is required and nullable). */
export function toOperationListWire(bankId: string, page: { total: number; items: Operation[] }, limit: number, offset: number): Json {
  return {
    bank_id: bankId,
    total: page.total,
    limit,
    offset,
    operations: page.items.map((operation) => ({
      id: operation.id,
      task_type: operation.kind,
      items_count: itemsCount(operation),
      document_id: null,
      created_at: iso(operation.createdAt),
      updated_at: iso(operation.updatedAt),
      status: operation.status,
      error_message: operation.error,
      retry_count: Math.max(operation.attempts - 1, 0),
    })),
  };
}

export function toOperationStatusWire(operation: Operation, includePayload: boolean): Json {
  return withoutNulls({
    operation_id: operation.id,
    status: operation.status,
    operation_type: operation.kind,
    created_at: iso(operation.createdAt),
    updated_at: iso(operation.updatedAt),
    completed_at: iso(operation.completedAt),
    error_message: operation.error,
    retry_count: Math.max(operation.attempts - 1, 0),
    result_metadata: operation.result,
    task_payload: includePayload ? operation.payload : null,
  });
}

export function toOperationNotFoundWire(operationId: string): Json {
  return { operation_id: operationId, status: 'not_found' };
}

export function toOperationCancelledWire(operationId: string): Json {
  return { success: true, message: `Operation ${operationId} cancelled`, operation_id: operationId };
}

// ---------------------------------------------------------------------------------------------

function itemsCount(operation: Operation): number {
  const count = operation.payload?.items_count ?? operation.result?.items_count;
  return typeof count === 'number' ? count : 0;
}

function eventDate(memory: MemoryRecord): string {
  return iso(memory.occurredStart ?? memory.mentionedAt) ?? '';
}

function iso(date: Date | string | null | undefined): string | null {
  if (date == null) return null;
  return date instanceof Date ? date.toISOString() : new Date(date).toISOString();
}

/**
 * A copy without the null and undefined members. A loop rather than entries, filter and
 * fromEntries: recall maps some 200 results with this, and the arrays of pairs were most of what
 * the mapping allocated.
 */
function withoutNulls(object: Json): Json {
  const kept: Json = {};
  for (const key in object) {
    const value = object[key];
    if (value !== null && value !== undefined) kept[key] = value;
  }
  return kept;
}

function definedOnly<T extends Record<string, number | null | undefined>>(object: T): { [K in keyof T]?: number } {
  return withoutNulls(object) as { [K in keyof T]?: number };
}

/** Trace keys in snake_case and dates as ISO strings, like the rest of the wire. */
function toSnakeCase(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toSnakeCase);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key.replace(/[A-Z]/g, (char) => `_${char.toLowerCase()}`), toSnakeCase(inner)]),
    );
  }
  return value;
}

export function toCreateWebhook(body: CreateWebhookRequestDto): CreateWebhook {
  return {
    url: body.url,
    secret: body.secret ?? null,
    eventTypes: body.event_types,
    enabled: body.enabled,
    httpConfig: body.http_config ? { ...body.http_config } : undefined,
  };
}

/** Only what the body carries; `secret: null` is a change (it clears the secret), other nulls are not. */
export function toUpdateWebhook(body: UpdateWebhookRequestDto): UpdateWebhook {
  const update: UpdateWebhook = {};
  if (body.url != null) update.url = body.url;
  if (body.secret !== undefined) update.secret = body.secret;
  if (body.event_types != null) update.eventTypes = body.event_types;
  if (body.enabled != null) update.enabled = body.enabled;
  if (body.http_config != null) update.httpConfig = { ...body.http_config };
  return update;
}

/** The secret is never returned, set or not. */
export function toWebhookWire(webhook: Webhook): Json {
  return {
    id: webhook.id,
    bank_id: webhook.bankId,
    url: webhook.url,
    secret: null,
    event_types: webhook.eventTypes,
    enabled: webhook.enabled,
    http_config: webhook.httpConfig,
    created_at: iso(webhook.createdAt),
    updated_at: iso(webhook.updatedAt),
  };
}

export function toWebhookDeliveryListWire(page: { items: WebhookDelivery[]; nextCursor: string | null }): Json {
  return {
    items: page.items.map((delivery) => ({
      id: delivery.id,
      webhook_id: delivery.webhookId,
      url: delivery.url,
      event_type: delivery.eventType,
      status: delivery.status,
      attempts: delivery.attempts,
      next_retry_at: iso(delivery.nextAttemptAt),
      last_error: delivery.lastError,
      last_response_status: delivery.lastResponseStatus,
      last_response_body: null,
      last_attempt_at: delivery.attempts > 0 ? iso(delivery.updatedAt) : null,
      delivered_at: iso(delivery.deliveredAt),
      created_at: iso(delivery.createdAt),
      updated_at: iso(delivery.updatedAt),
    })),
    next_cursor: page.nextCursor,
  };
}
