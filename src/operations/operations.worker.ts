import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { WakeableSleep } from '../lifecycle/wakeable-sleep.js';
import { RepeatedFailureLog } from '../logging/repeated-failure-log.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import { MemoryException } from '../memory.exception.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import type { ClaimedOperation } from './operation.types.js';
import { LeaseLostError, OperationsService } from './operations.service.js';

/**
 * Does one kind of queued work. It must make its write through `assertLeaseHeld` and
 * `complete` in one transaction, so that a worker whose lease was taken over writes nothing.
 */
export type OperationHandler = (operation: ClaimedOperation, signal: AbortSignal) => Promise<void>;

/** Errors that retrying cannot fix (bad input, a misconfigured model): the operation fails at once. */
function isPermanent(error: unknown): boolean {
  return error instanceof MemoryException && !error.retryable;
}

/**
 * Claims queued operations and runs their handlers, `concurrency` at a time, on every instance
 * of the fleet. Enqueueing wakes the local loops at once; work queued by another instance is
 * found by polling.
 */
@Injectable()
export class OperationsWorker {
  private readonly logger = new Logger(OperationsWorker.name);
  private readonly handlers = new Map<string, OperationHandler>();
  private readonly inFlight = new Map<string, { operation: ClaimedOperation; abort: AbortController }>();
  private readonly stop = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly pause = new WakeableSleep(this.stop.signal);

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(MemoryMetrics) private readonly metrics: MemoryMetrics,
  ) {}

  register(kind: string, handler: OperationHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Called by MemoryLifecycle, which owns the startup order. */
  start(): void {
    const { concurrency } = this.options.operations;
    this.loops = Array.from({ length: concurrency }, (_, index) => this.loop(index));
    this.coordinator.register('operations', 'operations-worker', (_signal, deadlineAt) => this.drain(deadlineAt));
  }

  /** Something was queued here: look now rather than at the next poll. */
  notify(): void {
    this.pause.wake();
  }

  /** How many operations this instance is running now. */
  get running(): number {
    return this.inFlight.size;
  }

  private async loop(index: number): Promise<void> {
    const { pollIntervalMs } = this.options.operations;
    const claiming = new RepeatedFailureLog(this.logger, `Worker ${index}`, 'claim work');
    while (!this.stop.signal.aborted) {
      let claimed: ClaimedOperation | null = null;
      try {
        claimed = await this.operations.claim(this.options.instanceId, this.options.operations.leaseMs, [...this.handlers.keys()]);
        claiming.succeeded();
      } catch (error) {
        if (this.stop.signal.aborted) break;
        claiming.failed(error);
      }
      if (claimed) {
        await this.run(claimed);
        continue;
      }
      await this.pause.sleep(pollIntervalMs);
    }
  }

  private async run(operation: ClaimedOperation): Promise<void> {
    const handler = this.handlers.get(operation.kind)!;
    const abort = new AbortController();
    this.inFlight.set(operation.id, { operation, abort });
    this.logger.log(`Operation ${operation.id} (${operation.kind}) processing, attempt ${operation.attempts}`);
    const heartbeat = this.heartbeat(operation, abort);
    try {
      await handler(operation, abort.signal);
      this.finished(operation, 'completed');
    } catch (error) {
      await this.failed(operation, error, abort.signal.aborted);
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(operation.id);
    }
  }

  private heartbeat(operation: ClaimedOperation, abort: AbortController): NodeJS.Timeout {
    const { leaseMs } = this.options.operations;
    return setInterval(
      () => {
        this.operations.heartbeat(operation, leaseMs).then(
          (held) => {
            if (!held && !abort.signal.aborted) {
              this.logger.warn(`Operation ${operation.id}: lease taken over by another instance; abandoning`);
              abort.abort(new LeaseLostError(operation.id));
            }
          },
          (error: unknown) => this.logger.warn(`Operation ${operation.id}: heartbeat failed: ${errorMessage(error)}`),
        );
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
  }

  private finished(operation: ClaimedOperation, status: string): void {
    this.metrics.operationsFinished.inc({ kind: operation.kind, status });
    this.logger.log(`Operation ${operation.id} (${operation.kind}) ${status}`);
  }

  private async failed(operation: ClaimedOperation, error: unknown, aborted: boolean): Promise<void> {
    if (error instanceof LeaseLostError) {
      this.logger.warn(error.message);
      return;
    }
    if (aborted && this.stop.signal.aborted) {
      // Shutdown abandoned it mid-way: hand it straight back so another instance (or our next
      // start) runs it; this attempt was not the operation's fault.
      await this.operations.release(operation).catch(() => undefined);
      this.logger.log(`Operation ${operation.id} (${operation.kind}) released for another instance`);
      return;
    }
    const { maxAttempts } = this.options.operations;
    const retryInMs = !isPermanent(error) && operation.attempts < maxAttempts ? 500 * 2 ** (operation.attempts - 1) : null;
    const status = await this.operations.fail(operation, errorMessage(error), retryInMs).catch(() => null);
    if (status === 'failed') this.finished(operation, 'failed');
    else
      this.logger.warn(
        `Operation ${operation.id} (${operation.kind}) attempt ${operation.attempts} failed: ${errorMessage(error)}; retrying`,
      );
  }

  /**
   * Stops claiming and waits for running operations; when the deadline comes first, aborts them
   * and gives their leases back, so nothing is lost, only postponed.
   */
  private async drain(deadlineAt: number): Promise<void> {
    this.stop.abort();
    this.pause.wake();
    const everyLoop = Promise.all(this.loops);
    // Keep a slice of the budget for giving leases back after abandoning work.
    const waitMs = Math.max(0, deadlineAt - Date.now() - Math.min(1000, (deadlineAt - Date.now()) / 4));
    const timer = new AbortController();
    const drained = await Promise.race([everyLoop.then(() => true), sleep(waitMs, false, { signal: timer.signal }).catch(() => false)]);
    timer.abort();
    if (!drained) {
      this.logger.warn(`Abandoning ${this.inFlight.size} running operation(s) at the shutdown deadline`);
      for (const { abort } of this.inFlight.values()) abort.abort(new Error('shutdown deadline'));
      await everyLoop;
    }
  }
}
