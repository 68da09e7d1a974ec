import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { cl100kStorageCounter } from './recall/token-counter.js';
import { ReadinessService } from './health/readiness.service.js';
import { WatchdogService } from './health/watchdog.service.js';
import { BankVectorIndexService } from './storage/bank-vector-indexes.service.js';
import { BankStatisticsService } from './storage/bank-statistics.service.js';
import { ConsolidationScheduler } from './consolidation/consolidation.scheduler.js';
import { ConsolidationService } from './consolidation/consolidation.service.js';
import { MentalModelsService } from './mental-models/mental-models.service.js';
import { OperationsWorker } from './operations/operations.worker.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';
import type { ShutdownStage } from './lifecycle/shutdown-stage.js';

/**
 * Starts the module's workers in one fixed order and hands their teardown to the coordinator.
 *
 * Nest calls the bootstrap hooks of one module's providers concurrently, so workers that each
 * started themselves would start in no particular order, and readiness could turn green while
 * one of them was still failing. Starting them here, one after another, makes the startup
 * order the exact reverse of the teardown order, and readiness the last thing to happen.
 * (Database and AI clients are factories, created before any of this runs.)
 */
@Injectable()
export class MemoryLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MemoryLifecycle.name);

  constructor(
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
    @Inject(WatchdogService) private readonly watchdog: WatchdogService,
    @Inject(BankVectorIndexService) private readonly bankIndexes: BankVectorIndexService,
    @Inject(BankStatisticsService) private readonly bankStatistics: BankStatisticsService,
    @Inject(WebhookDispatcher) private readonly webhooks: WebhookDispatcher,
    @Inject(OperationsWorker) private readonly operations: OperationsWorker,
    @Inject(ConsolidationService) private readonly consolidation: ConsolidationService,
    @Inject(ConsolidationScheduler) private readonly scheduler: ConsolidationScheduler,
    @Inject(MentalModelsService) private readonly mentalModels: MentalModelsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const startup: Array<[ShutdownStage | 'token encoding', () => Promise<void> | void]> = [
      // Before any worker: evaluating the encoding's module blocks the event loop for a few
      // hundred milliseconds, more on a loaded machine, and the first retain, edit or observation
      // write (which count tokens) would otherwise pay it while holding leases that their
      // heartbeats, stalled behind it, can no longer renew.
      ['token encoding', () => this.loadTokenEncoding()],
      ['watchdog', () => this.watchdog.start()],
      ['watchdog', () => this.bankIndexes.start()],
      ['watchdog', () => this.bankStatistics.start()],
      ['webhooks', () => this.webhooks.start()],
      ['operations', () => this.operations.start()],
      ['consolidation', () => this.consolidation.start()],
      ['scheduler', () => this.scheduler.start()],
      ['scheduler', () => this.mentalModels.start()],
      ['readiness', () => this.readiness.markReady()],
    ];
    for (const [stage, start] of startup) {
      await this.coordinator.guardStartup(stage, start);
    }
  }

  private async loadTokenEncoding(): Promise<void> {
    const startedAt = performance.now();
    await cl100kStorageCounter();
    this.logger.log(`Loaded the cl100k_base token encoding in ${Math.round(performance.now() - startedAt)} ms`);
  }

  /**
   * Before, not on, application shutdown: Nest closes the HTTP server between the two, and
   * readiness must already answer 503 while it drains.
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    await this.coordinator.shutdown(signal ? `signal ${signal}` : 'application closing');
  }
}
