import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { FileParser } from '../files/file-parser.js';
import { FileRetainService } from '../files/file-retain.service.js';
import { HealthController } from '../health/health.controller.js';
import { ApiKeyGuard, ApiKeyVerifier } from './api-key.guard.js';
import { AuditInterceptor } from './audit.interceptor.js';
import { AuditController } from './controllers/audit.controller.js';
import { DocumentTransferController } from './controllers/document-transfer.controller.js';
import { BankTemplatesController } from './controllers/bank-templates.controller.js';
import { KnowledgeBaseController } from './controllers/knowledge-base.controller.js';
import { BanksController } from './controllers/banks.controller.js';
import { ConsoleController, CONSOLE_ROOT, defaultConsoleRoot } from './controllers/console.controller.js';
import { ConsolidationController } from './controllers/consolidation.controller.js';
import { DirectivesController } from './controllers/directives.controller.js';
import { ChunksController } from './controllers/chunks.controller.js';
import { DocumentsController } from './controllers/documents.controller.js';
import { FilesController } from './controllers/files.controller.js';
import { BankGraphController, EntitiesController } from './controllers/entities.controller.js';
import { MemoriesController } from './controllers/memories.controller.js';
import { LlmRequestsController } from './controllers/llm-requests.controller.js';
import { MentalModelsController } from './controllers/mental-models.controller.js';
import { MetricsController, MonitoringController } from './controllers/monitoring.controller.js';
import { OperationsController } from './controllers/operations.controller.js';
import { ReflectController } from './controllers/reflect.controller.js';
import { WebhooksController } from './controllers/webhooks.controller.js';
import { MEMORY_HTTP_OPTIONS, type MemoryHttpOptions } from './memory-http.options.js';

/**
 * The HTTP face of the module: health probes and the Hindsight-compatible v1 API. Imported by the
 * standalone server; a host imports it too when it wants the same routes, next to a global
 * `MemoryModule`. Imported plainly, the API is open; `forRoot({ apiKey })` protects it, and
 * `forRoot({ console: true })` adds the memory console at `/ui`.
 */
@Module({
  imports: [TerminusModule],
  controllers: [
    HealthController,
    MonitoringController,
    MetricsController,
    BanksController,
    MemoriesController,
    DocumentsController,
    FilesController,
    ChunksController,
    OperationsController,
    ReflectController,
    MentalModelsController,
    DirectivesController,
    ConsolidationController,
    WebhooksController,
    EntitiesController,
    BankGraphController,
    LlmRequestsController,
    BankTemplatesController,
    KnowledgeBaseController,
    AuditController,
    DocumentTransferController,
  ],
  providers: [
    { provide: MEMORY_HTTP_OPTIONS, useValue: {} satisfies MemoryHttpOptions },
    ApiKeyVerifier,
    ApiKeyGuard,
    FileParser,
    FileRetainService,
    AuditInterceptor,
  ],
  exports: [ApiKeyVerifier],
})
export class MemoryHttpModule {
  static forRoot(options: MemoryHttpOptions = {}): DynamicModule {
    return {
      module: MemoryHttpModule,
      controllers: options.console ? [ConsoleController] : [],
      providers: [
        { provide: MEMORY_HTTP_OPTIONS, useValue: { ...options } },
        ...(options.console ? [{ provide: CONSOLE_ROOT, useValue: defaultConsoleRoot() }] : []),
      ],
    };
  }
}
