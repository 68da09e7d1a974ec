import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessService } from './readiness.service.js';
import { WatchdogService } from './watchdog.service.js';

/**
 * A terminus indicator a host can add to its own health checks: down while starting or
 * draining, and down when the database does not answer.
 */
@Injectable()
export class MemoryHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
    @Inject(WatchdogService) private readonly watchdog: WatchdogService,
  ) {}

  async isReady(key = 'memory') {
    const indicator = this.indicators.check(key);
    const state = this.readiness.state;
    if (state !== 'ready') return indicator.down({ state });
    const database = await this.watchdog.checkDatabase();
    if (!database.ok) return indicator.down({ state, database: database.error });
    const { pool, consolidationLagSeconds, reclaimed } = this.watchdog.report;
    const details = { state, databaseLatencyMs: database.latencyMs, pool, consolidationLagSeconds, reclaimed };
    // Callers queueing for a connection: still serving, but a load balancer should know.
    if (pool && pool.waiting > 0) return indicator.degraded(details);
    return indicator.up(details);
  }
}
