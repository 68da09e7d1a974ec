import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import { OperationsService } from '../operations/operations.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { banksAwaitingConsolidation, consolidationLag, tryTickLock } from './consolidation.queries.js';
import { enqueueConsolidation } from './consolidation.service.js';

const JOB_NAME = 'memory-consolidation';

/**
 * Queues consolidation on `options.consolidation.cron`. A tick only queues work: in one short
 * transaction it takes an advisory lock (so one instance of a fleet schedules) and enqueues an
 * operation for each bank with memories waiting and no consolidation queued or running; the
 * batches themselves run through the operations queue, on every instance. Nothing slow happens
 * while the lock or a connection is held.
 */
@Injectable()
export class ConsolidationScheduler {
  private readonly logger = new Logger(ConsolidationScheduler.name);
  private job?: CronJob;
  private tickRun?: Promise<void>;
  private stopped = false;

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(MemoryMetrics) private readonly metrics: MemoryMetrics,
    @Inject(SchedulerRegistry) private readonly registry: SchedulerRegistry,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
  ) {}

  /** Called by MemoryLifecycle at stage 'scheduler'. */
  start(): void {
    const { cron } = this.options.consolidation;
    if (!cron) {
      this.logger.log('Consolidation schedule off (cron: null); consolidation runs on demand only');
      return;
    }
    // Nest's scheduler does not wait for a running tick: we track it, and teardown waits for it.
    const job = CronJob.from({ cronTime: cron, onTick: () => this.onTick(), start: false });
    this.registry.addCronJob(JOB_NAME, job);
    this.job = job;
    this.coordinator.register('scheduler', 'consolidation-cron', (_signal, deadlineAt) => this.stop(deadlineAt));
    job.start();
  }

  /** True while a tick is running (tests wait on it). */
  get ticking(): boolean {
    return this.tickRun !== undefined;
  }

  /**
   * One tick; resolves with the banks it queued a consolidation for (empty when another instance
   * holds the tick lock). Public so that a host can trigger the schedule by hand.
   */
  async tick(): Promise<string[]> {
    const queued = await this.database.transaction(async (sql) => {
      if (!(await tryTickLock(sql))) return [];
      const ids: string[] = [];
      for (const bankId of await banksAwaitingConsolidation(sql)) {
        const outcome = await enqueueConsolidation(sql, this.operations, bankId, ['pending', 'processing']);
        if (!outcome.deduplicated) ids.push(bankId);
      }
      this.metrics.consolidationLag.set(Number((await consolidationLag(sql)) ?? 0));
      return ids;
    });
    if (queued.length) {
      this.logger.log(`Consolidation tick queued ${queued.length} bank(s): ${queued.join(', ')}`);
      this.worker.notify();
    }
    return queued;
  }

  private onTick(): void {
    if (this.stopped || this.tickRun) return; // a slow tick is not overlapped by the next one
    this.tickRun = this.tick()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn(`Consolidation tick failed: ${errorMessage(error)}`))
      .finally(() => {
        this.tickRun = undefined;
      });
  }

  private async stop(deadlineAt: number): Promise<void> {
    this.stopped = true;
    if (this.job) {
      await this.job.stop();
      try {
        this.registry.deleteCronJob(JOB_NAME);
      } catch {
        // already removed
      }
    }
    const running = this.tickRun;
    if (!running) return;
    const timer = new AbortController();
    const finished = await Promise.race([
      running.then(() => true),
      sleep(Math.max(0, deadlineAt - Date.now()), false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (!finished) this.logger.warn('Consolidation tick still running at the shutdown deadline; abandoned');
  }
}
