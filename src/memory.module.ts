import { Module, type Provider } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { AuditLogService } from './audit/audit-log.service.js';
import { DocumentTransferService } from './document-transfer/document-transfer.service.js';
import { BankGraphService } from './banks/bank-graph.service.js';
import { BankTemplatesService } from './bank-templates/bank-templates.service.js';
import { KnowledgeBaseService } from './knowledge-base/knowledge-base.service.js';
import { BanksService } from './banks/banks.service.js';
import { ConsolidationScheduler } from './consolidation/consolidation.scheduler.js';
import { ConsolidationService } from './consolidation/consolidation.service.js';
import { AiClients } from './external/ai-clients.js';
import { ExternalCallGuard } from './external/external-call-guard.js';
import type { LlmClient } from './external/llm-client.js';
import { MemoryHealthIndicator } from './health/memory.health.js';
import { ReadinessService } from './health/readiness.service.js';
import { WatchdogService } from './health/watchdog.service.js';
import { BankVectorIndexService, sharedIndexPolicy } from './storage/bank-vector-indexes.service.js';
import { BankStatisticsService } from './storage/bank-statistics.service.js';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';
import { LlmTraceService } from './llm-traces/llm-trace.service.js';
import { TracingLlmClient } from './llm-traces/tracing-llm-client.js';
import { MemoryLifecycle } from './memory-lifecycle.js';
import { MEMORY_DATA_SOURCE, MEMORY_OPTIONS, MEMORY_VECTOR_BACKEND } from './memory.constants.js';
import { ConfigurableMemoryModule, MEMORY_MODULE_OPTIONS } from './memory.module-definition.js';
import { type MemoryModuleOptions, type ResolvedMemoryOptions, resolveMemoryOptions } from './memory.options.js';
import { MemoriesService } from './memories/memories.service.js';
import { MemoryEditService } from './memories/memory-edit.service.js';
import { MentalModelsService } from './mental-models/mental-models.service.js';
import { DirectivesService } from './directives/directives.service.js';
import { ReflectService } from './reflect/reflect.service.js';
import { MemoryMetrics } from './metrics/memory-metrics.js';
import { OperationsService } from './operations/operations.service.js';
import { OperationsWorker } from './operations/operations.worker.js';
import { RecallService } from './recall/recall.service.js';
import { RetainService } from './retain/retain.service.js';
import { DocumentChunksService } from './documents/document-chunks.service.js';
import { EntitiesService } from './entities/entities.service.js';
import { KnownEntityIds } from './entities/known-entity-ids.js';
import { DataSourceRegistry } from './storage/data-source-registry.js';
import { MemoryDatabase } from './storage/memory-database.js';
import { bindsBuffersAsBinary, prepareVectorBackend, type VectorBackend } from './storage/vector-backend.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { WebhooksService } from './webhooks/webhooks.service.js';

const providers: Provider[] = [
  {
    provide: MEMORY_OPTIONS,
    inject: [MEMORY_MODULE_OPTIONS],
    useFactory: (options: MemoryModuleOptions) => resolveMemoryOptions(options),
  },
  {
    provide: ShutdownCoordinator,
    inject: [MEMORY_OPTIONS],
    useFactory: (options: ResolvedMemoryOptions) =>
      options.shutdownCoordinator ?? new ShutdownCoordinator({ timeoutMs: options.shutdownTimeoutMs }),
  },
  {
    provide: MemoryMetrics,
    inject: [ShutdownCoordinator],
    useFactory: (coordinator: ShutdownCoordinator) => {
      const metrics = new MemoryMetrics();
      coordinator.onStep((report) =>
        metrics.shutdownStepDuration.set({ stage: report.stage, outcome: report.outcome }, report.durationMs / 1000),
      );
      return metrics;
    },
  },
  {
    provide: DataSourceRegistry,
    inject: [MEMORY_OPTIONS, ShutdownCoordinator],
    useFactory: (options: ResolvedMemoryOptions, coordinator: ShutdownCoordinator) => {
      const registry = new DataSourceRegistry({
        poolSize: options.poolSize,
        poolIdleTimeoutMs: options.poolIdleTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        connectAttempts: options.connectAttempts,
        connectRetryDelayMs: options.connectRetryDelayMs,
        applicationName: 'nestjs-memory',
        pgliteSharedBuffers: options.pgliteSharedBuffers,
      });
      // Registered before the first acquire, so that a connect still in flight when startup
      // fails elsewhere is awaited and closed.
      coordinator.register('database', 'data-source-registry', () => registry.closeAll());
      return registry;
    },
  },
  {
    provide: MEMORY_DATA_SOURCE,
    inject: [MEMORY_OPTIONS, DataSourceRegistry, ShutdownCoordinator],
    useFactory: (options: ResolvedMemoryOptions, registry: DataSourceRegistry, coordinator: ShutdownCoordinator) =>
      coordinator.guardStartup('database', () =>
        options.dataSource ? registry.adopt(options.dataSource) : registry.acquire(options.databaseUrl),
      ),
  },
  {
    provide: MemoryDatabase,
    inject: [MEMORY_DATA_SOURCE, MemoryMetrics, MEMORY_OPTIONS],
    useFactory: (dataSource: DataSource, metrics: MemoryMetrics, options: ResolvedMemoryOptions) => {
      const database = new MemoryDatabase(dataSource, {
        onAcquired: (waitMs) => metrics.poolAcquireWait.observe(waitMs / 1000),
        preparedStatements: options.preparedStatements,
      });
      metrics.observePool(() => database.poolStats());
      return database;
    },
  },
  {
    provide: MEMORY_VECTOR_BACKEND,
    inject: [MEMORY_OPTIONS, MemoryDatabase, ShutdownCoordinator],
    useFactory: (options: ResolvedMemoryOptions, database: MemoryDatabase, coordinator: ShutdownCoordinator) =>
      coordinator.guardStartup('database', () =>
        database.withConnection((sql) =>
          prepareVectorBackend(sql, options.embedder.dimension, {
            sharedIndex: sharedIndexPolicy(options, database.dataSource),
            binaryParameters: bindsBuffersAsBinary(database.dataSource),
          }),
        ),
      ),
  },
  {
    provide: ExternalCallGuard,
    inject: [MEMORY_OPTIONS, MemoryMetrics],
    useFactory: (options: ResolvedMemoryOptions, metrics: MemoryMetrics) =>
      new ExternalCallGuard(options.guardMode, {
        onViolation: (client) => metrics.guardViolations.inc({ client }),
        onCall: (client, outcome, seconds) => metrics.externalCallDuration.observe({ client, outcome }, seconds),
      }),
  },
  {
    provide: AiClients,
    // After the database (through the vector back end): startup runs in the reverse of teardown
    // order, so a database that cannot be reached leaves no HTTP agent to clean up.
    inject: [MEMORY_OPTIONS, ExternalCallGuard, ShutdownCoordinator, LlmTraceService, MEMORY_VECTOR_BACKEND],
    useFactory: (options: ResolvedMemoryOptions, guard: ExternalCallGuard, coordinator: ShutdownCoordinator, traces: LlmTraceService) =>
      coordinator.guardStartup('ai-clients', () => {
        const settings = { embedder: options.embedder, llm: options.llm, reranker: options.reranker };
        const traced = (llm: LlmClient) => (traces.enabled ? new TracingLlmClient(llm, traces, options.llm.model) : llm);
        const clients = AiClients.create(settings, guard, traced);
        coordinator.register('ai-clients', 'ai-clients', () => clients.close());
        return clients;
      }),
  },
  LlmTraceService,
  BanksService,
  MemoriesService,
  OperationsService,
  OperationsWorker,
  WebhooksService,
  WebhookDispatcher,
  KnownEntityIds,
  RetainService,
  {
    provide: RecallService,
    inject: [MemoryDatabase, MEMORY_VECTOR_BACKEND, AiClients, BankVectorIndexService, BankStatisticsService],
    useFactory: (
      database: MemoryDatabase,
      vectors: VectorBackend,
      ai: AiClients,
      bankIndexes: BankVectorIndexService,
      bankStatistics: BankStatisticsService,
    ) => new RecallService(database, vectors, ai.embedder, ai.reranker, {}, bankIndexes, bankStatistics),
  },
  ConsolidationService,
  ConsolidationScheduler,
  MemoryEditService,
  DocumentChunksService,
  DirectivesService,
  MentalModelsService,
  ReflectService,
  EntitiesService,
  BankGraphService,
  BankTemplatesService,
  AuditLogService,
  DocumentTransferService,
  KnowledgeBaseService,
  ReadinessService,
  WatchdogService,
  BankVectorIndexService,
  BankStatisticsService,
  MemoryHealthIndicator,
  MemoryLifecycle,
];

/**
 * Long-term memory for the host application, on its PostgreSQL or an embedded PGlite.
 *
 * `MemoryModule.forRoot({ databaseUrl })` or `forRootAsync({ imports, inject, useFactory })`;
 * `isGlobal: true` makes its services injectable everywhere.
 */
@Module({
  imports: [TerminusModule, ScheduleModule.forRoot()],
  providers,
  exports: [
    MEMORY_OPTIONS,
    ShutdownCoordinator,
    MemoryDatabase,
    MemoryMetrics,
    AiClients,
    LlmTraceService,
    BanksService,
    MemoriesService,
    OperationsService,
    WebhooksService,
    WebhookDispatcher,
    RetainService,
    RecallService,
    ConsolidationService,
    MemoryEditService,
    DocumentChunksService,
    DirectivesService,
    MentalModelsService,
    ReflectService,
    EntitiesService,
    BankGraphService,
    BankTemplatesService,
    AuditLogService,
    DocumentTransferService,
    KnowledgeBaseService,
    ReadinessService,
    WatchdogService,
    BankVectorIndexService,
    BankStatisticsService,
    MemoryHealthIndicator,
  ],
})
export class MemoryModule extends ConfigurableMemoryModule {}
