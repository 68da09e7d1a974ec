// The public face of the package: what a host application imports. Everything a host injects,
// configures or catches is here; anything not exported is an internal that may change.

// The module and its options.
export { MemoryModule } from './memory.module.js';
export { MEMORY_DATA_SOURCE, MEMORY_OPTIONS } from './memory.constants.js';
export {
  DEFAULT_INPUT_LIMITS,
  InvalidMemoryOptionsError,
  type ConsolidationSettings,
  type InputLimits,
  type MemoryModuleOptions,
  type OperationsSettings,
  type PgliteAnalyzeSettings,
  type BankVectorIndexSettings,
  type BankStatisticsSettings,
  type ResolvedMemoryOptions,
  type RetainLimits,
  type WebhookSettings,
  type LlmTraceSettings,
  type AuditSettings,
} from './memory.options.js';
export type { AiClientSettings, EmbedderSettings, LlmSettings, RerankerSettings } from './external/ai-clients.js';
export type { RecallSettings } from './recall/recall.types.js';

// Errors a host may catch.
export { MemoryErrorCode, MemoryException } from './memory.exception.js';
export { DatabaseConnectError, RegistryClosedError } from './storage/data-source-registry.js';
export { EmbeddingDimensionMismatchError } from './storage/vector-backend.js';
export { ConnectionHeldAcrossExternalCallError } from './external/external-call-guard.js';
export { EmbeddingDimensionError, ExternalServiceError, LlmOutputError } from './external/external-errors.js';
export { LeaseLostError } from './operations/operations.service.js';

// The injectable services the module exports.
export {
  BanksService,
  type BankConfig,
  type BankProfile,
  type BankStats,
  type BankSummary,
  type BankUpdate,
  type Disposition,
} from './banks/banks.service.js';
export { RetainService } from './retain/retain.service.js';
export type { RetainEntityInput, RetainItem, RetainOutcome, RetainRequest } from './retain/retain.types.js';
export { RecallService } from './recall/recall.service.js';
export {
  FACT_TYPES,
  RECALL_BUDGETS,
  TAGS_MATCHES,
  type FactType,
  type RecallBudget,
  type RecallOutcome,
  type RecallRequest,
  type RecallTrace,
  type RecalledEntity,
  type RecalledMemory,
  type TagsMatch,
} from './recall/recall.types.js';
export { ConsolidationService } from './consolidation/consolidation.service.js';
export type { ConsolidationRequestOutcome, ConsolidationResult } from './consolidation/consolidation.types.js';
export { OBSERVATION_SCOPE_MODES, type ObservationScopeMode, type ObservationScopesSpec } from './consolidation/observation-scopes.js';
export { MemoriesService } from './memories/memories.service.js';
export { MemoryEditService, type EditedMemory, type MemoryEdit } from './memories/memory-edit.service.js';
export type { DocumentRecord, EntityRecord, MemoryListFilter, MemoryRecord, Page } from './memories/memory.types.js';
export { MentalModelsService } from './mental-models/mental-models.service.js';
export type {
  CreateMentalModel,
  MentalModel,
  MentalModelFilter,
  MentalModelTrigger,
  UpdateMentalModel,
} from './mental-models/mental-model.types.js';
export {
  BankTemplateInvalidError,
  BankTemplatesService,
  type BankTemplateImport,
  type BankTemplateIssue,
} from './bank-templates/bank-templates.service.js';
export {
  BANK_TEMPLATE_JSON_SCHEMA,
  bankTemplateManifestSchema,
  type BankTemplateManifest,
} from './bank-templates/bank-template.manifest.js';
export { ReflectService } from './reflect/reflect.service.js';
export { KnowledgeBaseService, type BundleFile } from './knowledge-base/knowledge-base.service.js';
export type {
  CreateKnowledgePage,
  KnowledgeNode,
  KnowledgePage,
  KnowledgeSearchHit,
  UpdateKnowledgeNode,
} from './knowledge-base/knowledge-base.types.js';
export { AuditLogService, type AuditPeriod, type AuditStats } from './audit/audit-log.service.js';
export {
  DocumentTransferService,
  type ImportCounts,
  type OnConflict,
  type StoredFileDownload,
} from './document-transfer/document-transfer.service.js';
export { EntitiesService, OBSERVATIONS_PER_ENTITY, type EntityDetail, type EntityGraph } from './entities/entities.service.js';
export {
  BankGraphService,
  MAX_GRAPH_LIMIT,
  TIMESERIES_FIELDS,
  TIMESERIES_PERIODS,
  type GraphLink,
  type GraphUnit,
  type MemoriesTimeseries,
  type MemoryGraph,
  type TimeseriesPeriod,
} from './banks/bank-graph.service.js';
export type { ReflectFact, ReflectOutcome, ReflectRequest } from './reflect/reflect.types.js';
export { OperationsService } from './operations/operations.service.js';
export { OPERATION_STATUSES, type Operation, type OperationStatus } from './operations/operation.types.js';
export { WebhooksService } from './webhooks/webhooks.service.js';
export { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
export {
  WEBHOOK_EVENTS,
  type CreateWebhook,
  type UpdateWebhook,
  type Webhook,
  type WebhookDelivery,
  type WebhookEvent,
} from './webhooks/webhook.types.js';
export { AiClients } from './external/ai-clients.js';
export type { Embedder } from './external/embedder.js';
export type { LlmCallContext, LlmClient } from './external/llm-client.js';
export { LlmTraceService } from './llm-traces/llm-trace.service.js';
export type { Reranker } from './external/reranker.js';
export { MemoryMetrics } from './metrics/memory-metrics.js';
export { WatchdogService } from './health/watchdog.service.js';
export { BankVectorIndexService, type BankIndexReport } from './storage/bank-vector-indexes.service.js';
export type { BankIndexKind } from './storage/bank-vector-indexes.queries.js';
export { BankStatisticsService, type BankStatisticsReport, type UnseenBank } from './storage/bank-statistics.service.js';

// HTTP, health and lifecycle.
export { MemoryHttpModule } from './http/memory-http.module.js';
export { DEFAULT_MAX_BODY_BYTES, type MemoryHttpOptions } from './http/memory-http.options.js';
export { configureHttpApp, type HttpAppOptions } from './http/configure-http-app.js';
export { MemoryMcpModule } from './mcp/memory-mcp.module.js';
export type { MemoryMcpOptions } from './mcp/mcp.options.js';
export { MemoryHealthIndicator } from './health/memory.health.js';
export { ReadinessService, type ReadinessState } from './health/readiness.service.js';
export { ShutdownCoordinator, type ShutdownCoordinatorOptions, type StepReport } from './lifecycle/shutdown-coordinator.js';
export { SHUTDOWN_STAGES, type ShutdownStage } from './lifecycle/shutdown-stage.js';
export { MemoryDatabase, type Sql } from './storage/memory-database.js';
