import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ReadinessService } from './health/readiness.service.js';
import { WatchdogService } from './health/watchdog.service.js';
import { BankVectorIndexService } from './storage/bank-vector-indexes.service.js';
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
  constructor(
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
    @Inject(WatchdogService) private readonly watchdog: WatchdogService,
    @Inject(BankVectorIndexService) private readonly bankIndexes: BankVectorIndexService,
    @Inject(WebhookDispatcher) private readonly webhooks: WebhookDispatcher,
    @Inject(OperationsWorker) private readonly operations: OperationsWorker,
    @Inject(ConsolidationService) private readonly consolidation: ConsolidationService,
    @Inject(ConsolidationScheduler) private readonly scheduler: ConsolidationScheduler,
    @Inject(MentalModelsService) private readonly mentalModels: MentalModelsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const startup: Array<[ShutdownStage, () => Promise<void> | void]> = [
      ['watchdog', () => this.watchdog.start()],
      ['watchdog', () => this.bankIndexes.start()],
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

  /**
   * Before, not on, application shutdown: Nest closes the HTTP server between the two, and
   * readiness must already answer 503 while it drains.
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    await this.coordinator.shutdown(signal ? `signal ${signal}` : 'application closing');
  }
}
