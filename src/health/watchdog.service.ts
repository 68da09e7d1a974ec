import { Inject, Injectable, Logger } from '@nestjs/common';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryDatabase } from '../storage/memory-database.js';

export interface DatabaseCheck {
  ok: boolean;
  latencyMs: number;
  checkedAt: Date;
  error?: string;
}

/**
 * Pings the database on an interval, so readiness can answer from the last result instead of
 * taking a connection per probe, and so a lost database shows up even when no request comes.
 */
@Injectable()
export class WatchdogService {
  private readonly logger = new Logger(WatchdogService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<DatabaseCheck>;
  private last?: DatabaseCheck;

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
  ) {}

  get lastDatabaseCheck(): DatabaseCheck | undefined {
    return this.last;
  }

  /** A fresh check, shared with one already under way. */
  checkDatabase(): Promise<DatabaseCheck> {
    this.running ??= this.pingDatabase().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Called by MemoryLifecycle, which owns the startup order. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.checkDatabase(), this.options.watchdogIntervalMs);
    this.coordinator.register('watchdog', 'watchdog', async () => {
      clearInterval(this.timer);
      await this.running;
    });
    await this.checkDatabase();
  }

  private async pingDatabase(): Promise<DatabaseCheck> {
    const started = Date.now();
    try {
      await this.database.query('SELECT 1');
      this.last = { ok: true, latencyMs: Date.now() - started, checkedAt: new Date() };
    } catch (error) {
      if (this.last?.ok !== false) this.logger.warn(`Database check failed: ${errorMessage(error)}`);
      this.last = { ok: false, latencyMs: Date.now() - started, checkedAt: new Date(), error: errorMessage(error) };
    }
    return this.last;
  }
}
