import { Inject, Injectable, Logger } from '@nestjs/common';
import { pruneAuditLog } from '../audit/audit-log.queries.js';
import { pruneExpiredFiles } from '../document-transfer/document-transfer.queries.js';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { PgliteVacuumSettings, ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import { RepeatedFailureLog } from '../logging/repeated-failure-log.js';
import { MemoryDatabase, type PoolStats, type Sql } from '../storage/memory-database.js';
import {
  analyzeTable,
  isPgliteDataSource,
  tablesDueForAnalyze,
  tablesDueForVacuum,
  vacuumTable,
} from '../storage/pglite/pglite-statistics.js';
import { consolidationLagSeconds, ping, reclaimExpiredMemoryClaims, reclaimExpiredOperations } from './health.queries.js';

export interface DatabaseCheck {
  ok: boolean;
  latencyMs: number;
  checkedAt: Date;
  error?: string;
}

/** What the last round of checks found; `/health/ready` shows it. */
export interface WatchdogReport {
  database?: DatabaseCheck;
  pool: PoolStats | null;
  /** Age of the oldest memory still waiting for consolidation; 0 when none waits. */
  consolidationLagSeconds: number | null;
  /** Claims whose holder stopped renewing their lease, handed back to the queue by the last check. */
  reclaimed: { operations: number; memories: number };
}

/** A table the watchdog analysed, and why. */
export interface AnalyzedTable {
  table: string;
  /** Rows changed since its previous analysis. */
  changed: number;
  durationMs: number;
}

/** A table the watchdog vacuumed, and why. */
export interface VacuumedTable {
  table: string;
  /** Rows inserted since its previous vacuum. */
  inserted: number;
  /** Dead rows it had. */
  dead: number;
  durationMs: number;
}

/**
 * Periodic checks of the things that fail quietly: the database (so readiness can answer from
 * the last ping and a lost database shows even when no request comes), pool saturation,
 * consolidation lag, claims left behind by instances that died, audit entries past retention and expired transfer archives. On PGlite, which has no
 * autovacuum, it also does autovacuum's work: vacuum and fresh planner statistics (`pgliteAnalyze`).
 */
@Injectable()
export class WatchdogService {
  private readonly logger = new Logger(WatchdogService.name);
  private timer?: NodeJS.Timeout;
  private maintenanceTimer?: NodeJS.Timeout;
  private running?: Promise<DatabaseCheck>;
  private sweeping?: Promise<void>;
  private analyzing?: Promise<AnalyzedTable[]>;
  private vacuuming?: Promise<VacuumedTable[]>;
  private maintaining?: Promise<void>;
  private stopped = false;
  private readonly analyzeFailures = new RepeatedFailureLog(this.logger, 'Watchdog', 'analyse PGlite statistics');
  private readonly vacuumFailures = new RepeatedFailureLog(this.logger, 'Watchdog', 'vacuum PGlite tables');
  private readonly current: WatchdogReport = { pool: null, consolidationLagSeconds: null, reclaimed: { operations: 0, memories: 0 } };

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MemoryMetrics) private readonly metrics: MemoryMetrics,
  ) {}

  get lastDatabaseCheck(): DatabaseCheck | undefined {
    return this.current.database;
  }

  get report(): WatchdogReport {
    return { ...this.current, pool: this.database.poolStats() };
  }

  /** A fresh ping, shared with one already under way. */
  checkDatabase(): Promise<DatabaseCheck> {
    this.running ??= this.pingDatabase().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Called by MemoryLifecycle, which owns the startup order. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.runChecks(), this.options.watchdogIntervalMs);
    const { intervalMs } = this.options.pgliteAnalyze;
    if (intervalMs !== null && this.analyzesStatistics) {
      this.maintenanceTimer = setInterval(() => void this.maintainPglite(), intervalMs);
    }
    this.coordinator.register('watchdog', 'watchdog', async () => {
      this.stopped = true;
      clearInterval(this.timer);
      clearInterval(this.maintenanceTimer);
      await Promise.all([this.running, this.sweeping, this.maintaining, this.vacuuming, this.analyzing]);
    });
    await this.checkDatabase();
  }

  /** True on PGlite, which has no autovacuum: the watchdog vacuums and analyses its tables (the name predates the vacuum). */
  get analyzesStatistics(): boolean {
    return isPgliteDataSource(this.database.dataSource);
  }

  /** The scheduled round on PGlite: vacuum first, so that the analysis after it counts the rows it left. */
  private maintainPglite(): Promise<void> {
    this.maintaining ??= (async () => {
      await this.vacuumTables();
      if (!this.stopped) await this.analyzeStatistics();
    })().finally(() => (this.maintaining = undefined));
    return this.maintaining;
  }

  /**
   * One round of autovacuum's vacuum, on PGlite only (nothing elsewhere, or with
   * `pgliteAnalyze.vacuum` null): the tables due by its rules are vacuumed one at a time, each in
   * a scope of its own, as `analyzeStatistics` analyses them. Shared with a round already under
   * way; scheduled with it, public for hosts and tests.
   */
  vacuumTables(): Promise<VacuumedTable[]> {
    const settings = this.options.pgliteAnalyze.vacuum;
    if (!this.analyzesStatistics || settings === null || this.stopped) return Promise.resolve([]);
    this.vacuuming ??= this.vacuumDueTables(settings).finally(() => (this.vacuuming = undefined));
    return this.vacuuming;
  }

  private vacuumDueTables(settings: PgliteVacuumSettings): Promise<VacuumedTable[]> {
    return this.eachDueTable(
      this.vacuumFailures,
      (sql) => tablesDueForVacuum(sql, settings),
      vacuumTable,
      ({ table, inserted, dead }, durationMs) => {
        this.logger.log(`VACUUM ${table}: ${inserted} rows inserted and ${dead} dead since its last vacuum; ${durationMs}ms`);
        return { table, inserted, dead, durationMs };
      },
    );
  }

  /**
   * One round of autovacuum's analyse, on PGlite only (nothing elsewhere): the tables whose
   * changed rows passed the `pgliteAnalyze` rule are analysed one at a time, each in a scope of
   * its own, so that a caller waiting for the one session gets it between two tables rather than
   * after all of them. Shared with a round already under way; scheduled every
   * `pgliteAnalyze.intervalMs`, public for hosts and tests.
   */
  analyzeStatistics(): Promise<AnalyzedTable[]> {
    if (!this.analyzesStatistics || this.stopped) return Promise.resolve([]);
    this.analyzing ??= this.analyzeDueTables().finally(() => (this.analyzing = undefined));
    return this.analyzing;
  }

  private analyzeDueTables(): Promise<AnalyzedTable[]> {
    return this.eachDueTable(
      this.analyzeFailures,
      (sql) => tablesDueForAnalyze(sql, this.options.pgliteAnalyze),
      analyzeTable,
      ({ table, changed, limit }, durationMs) => {
        this.logger.log(`ANALYZE ${table}: ${changed} rows changed since its last analysis (due from ${limit}); ${durationMs}ms`);
        return { table, changed, durationMs };
      },
    );
  }

  /**
   * Finds the tables due, then runs `statement` on each, one table per scope so that a caller
   * waiting for PGlite's one session gets it between two tables; stops early on shutdown.
   */
  private async eachDueTable<Due extends { table: string }, Done>(
    failures: RepeatedFailureLog,
    findDue: (sql: Sql) => Promise<Due[]>,
    statement: (sql: Sql, table: string) => Promise<void>,
    done: (due: Due, durationMs: number) => Done,
  ): Promise<Done[]> {
    const finished: Done[] = [];
    try {
      const due = await this.database.withConnection(findDue);
      for (const table of due) {
        if (this.stopped) break;
        const durationMs = await this.database.withConnection(async (sql) => {
          const startedAt = performance.now();
          await statement(sql, table.table);
          return Math.round(performance.now() - startedAt);
        });
        finished.push(done(table, durationMs));
      }
      failures.succeeded();
    } catch (error) {
      failures.failed(error);
    }
    return finished;
  }

  /** One round: ping, then (when the database answers) lag and abandoned claims. */
  async runChecks(): Promise<WatchdogReport> {
    const database = await this.checkDatabase();
    if (database.ok) {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
      await this.sweeping;
    }
    return this.report;
  }

  private async sweep(): Promise<void> {
    try {
      await this.database.transaction(async (sql) => {
        const lag = await consolidationLagSeconds(sql);
        const operations = await reclaimExpiredOperations(sql);
        const memories = await reclaimExpiredMemoryClaims(sql);
        const { audit } = this.options;
        if (audit.enabled && audit.retentionDays !== null) await pruneAuditLog(sql, audit.retentionDays);
        await pruneExpiredFiles(sql);
        this.current.consolidationLagSeconds = lag ?? 0;
        this.current.reclaimed = { operations, memories };
      });
      this.metrics.consolidationLag.set(this.current.consolidationLagSeconds ?? 0);
      const { operations, memories } = this.current.reclaimed;
      if (operations + memories > 0) {
        this.metrics.watchdogReclaimed.inc({ kind: 'operation' }, operations);
        this.metrics.watchdogReclaimed.inc({ kind: 'memory' }, memories);
        this.logger.warn(`Reclaimed ${operations} operation(s) and ${memories} memory claim(s) whose lease expired`);
      }
    } catch (error) {
      this.logger.warn(`Watchdog sweep failed: ${errorMessage(error)}`);
    }
  }

  private async pingDatabase(): Promise<DatabaseCheck> {
    const started = Date.now();
    const previous = this.current.database;
    try {
      await this.database.withConnection((sql) => ping(sql));
      this.current.database = { ok: true, latencyMs: Date.now() - started, checkedAt: new Date() };
      if (previous && !previous.ok) this.logger.log('Database reachable again');
    } catch (error) {
      if (previous?.ok !== false) this.logger.warn(`Database check failed: ${errorMessage(error)}`);
      this.current.database = { ok: false, latencyMs: Date.now() - started, checkedAt: new Date(), error: errorMessage(error) };
    }
    return this.current.database;
  }
}
