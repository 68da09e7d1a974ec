import { Inject, Injectable, Logger } from '@nestjs/common';
import { ShutdownCoordinator } from '../lifecycle/shutdown-coordinator.js';
import { RepeatedFailureLog } from '../logging/repeated-failure-log.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import {
  BANK_STATISTICS_LOCK,
  BANK_STATISTICS_TABLES,
  analyzeBankTables,
  banksThatMayBeUnseen,
  memoriesChangedSinceAnalysis,
  plannedMemoriesOfBank,
} from './bank-statistics.queries.js';
import { MemoryDatabase, type Sql, detachedFromConnection } from './memory-database.js';
import { inTurnOfTheFleet } from './session-lock.queries.js';

/**
 * A bank the planner expects fewer than a tenth of its memories of is one its statistics have not
 * seen: the planner's guesses for a bank it has seen come within a few times of the truth.
 */
const plannedAsUnseen = (planned: number, memories: number) => planned < memories * 0.1;

/** A bank the planner expected too few memories of, and what it expects after the analysis. */
export interface UnseenBank {
  bankId: string;
  memories: number;
  plannedBefore: number;
  plannedAfter: number;
}

/** What one round of the check did, or why it did nothing. */
export interface BankStatisticsReport {
  skipped?: 'another-instance' | 'stopped';
  /** Rows of `memory_units` changed since its last analysis, when the round got that far. */
  changedSinceAnalysis?: number;
  /** The bank the round analysed for, if it found one; one is enough, as the analysis covers all. */
  analyzed?: UnseenBank & { durationMs: number };
}

/**
 * Fresh planner statistics for a bank the last analysis did not see
 * (docs/ARCHITECTURE.md, "Statistics of a new bank"). Every statement of recall is given its
 * bank, and the planner sizes a bank from the statistics: where the last analysis saw every bank
 * among its common values, a bank created since is expected to hold one row, whatever it holds,
 * and a plan made for one row reads the bank over and over (recall in a new bank of 20,000
 * memories: 959 ms at p50, against 17.2 ms once analysed). Autovacuum analyses a table once a
 * tenth of it has changed, which in a large database is long after a new bank is large; PGlite's
 * watchdog applies the same rule.
 *
 * Each round asks the planner about the banks that could be new enough, and analyses the tables
 * recall reads by bank when it expects less than a tenth of one: one instance of the fleet at a
 * time (a session advisory lock), on one pooled connection. A recall that finds such a bank
 * starts a round at once. A bank the analysis still cannot size is not analysed for again until
 * it doubles.
 */
@Injectable()
export class BankStatisticsService {
  private readonly logger = new Logger(BankStatisticsService.name);
  private readonly failures = new RepeatedFailureLog(this.logger, 'BankStatisticsService', 'check the banks’ planner statistics');
  private timer?: NodeJS.Timeout;
  private running?: Promise<BankStatisticsReport>;
  private stopped = false;
  /**
   * Banks still misjudged after an analysis made for them, with their size then: a sample that
   * misses the bank among many small ones, or a role that does not own the tables, whose
   * `ANALYZE` PostgreSQL skips with a warning. Either would otherwise repeat every round.
   */
  private readonly misjudgedAfterAnalysis = new Map<string, number>();

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
  ) {}

  /**
   * Called by MemoryLifecycle; the first round comes after one interval, as autovacuum's would.
   * The stop is registered with the schedule off too: a round a host started is waited for.
   */
  start(): void {
    const { intervalMs } = this.options.bankStatistics;
    if (intervalMs !== null) this.timer = setInterval(() => void this.check(), intervalMs);
    this.coordinator.register('watchdog', 'bank-statistics', async () => {
      this.stopped = true;
      clearInterval(this.timer);
      await this.running;
    });
  }

  /**
   * One round, shared with a round already under way; scheduled every `bankStatistics.intervalMs`,
   * public for hosts and tests (and usable with the schedule off).
   */
  check(): Promise<BankStatisticsReport> {
    if (this.stopped) return Promise.resolve({ skipped: 'stopped' });
    this.running ??= this.checkOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Recall found `bankId` holding at least `held` memories (asked once a minute per bank and
   * instance). Where the planner expects less than a tenth of that, the round starts now, in the
   * background, instead of at its next interval: an agent that imports a bank and recalls from it
   * at once would otherwise have it planned as one row for up to a minute. Asked on the caller's
   * connection (one `EXPLAIN`); the round takes its own, and decides for itself.
   */
  async bankRecalled(sql: Sql, bankId: string, held: number): Promise<void> {
    const { intervalMs, minMemories } = this.options.bankStatistics;
    if (intervalMs === null || this.stopped || this.running || held < minMemories) return;
    if (this.misjudgedUntilItDoubles(bankId, held)) return;
    if (!plannedAsUnseen(await plannedMemoriesOfBank(sql, bankId), held)) return;
    detachedFromConnection(() => void this.check());
  }

  /** A bank still misjudged after an analysis made for it, and not yet twice the size it had then. */
  private misjudgedUntilItDoubles(bankId: string, memories: number): boolean {
    return memories < 2 * (this.misjudgedAfterAnalysis.get(bankId) ?? 0);
  }

  private async checkOnce(): Promise<BankStatisticsReport> {
    const report: BankStatisticsReport = {};
    try {
      await this.database.withConnection(async (sql) => {
        const ran = await inTurnOfTheFleet(sql, BANK_STATISTICS_LOCK, () => this.checkLocked(sql, report));
        if (!ran) report.skipped = 'another-instance';
      });
      this.failures.succeeded();
    } catch (error) {
      this.failures.failed(error);
    }
    return report;
  }

  private async checkLocked(sql: Sql, report: BankStatisticsReport): Promise<void> {
    const { minMemories } = this.options.bankStatistics;
    const changed = await memoriesChangedSinceAnalysis(sql);
    report.changedSinceAnalysis = changed;
    // More than half of a bank of `minMemories` must be new since the analysis for it to be unseen.
    if (changed * 2 < minMemories) return;
    let unseen: Omit<UnseenBank, 'plannedAfter'> | undefined;
    for (const bank of await banksThatMayBeUnseen(sql, { minMemories, grownBy: changed })) {
      if (this.stopped) {
        report.skipped = 'stopped';
        return;
      }
      if (this.misjudgedUntilItDoubles(bank.bankId, bank.memories)) continue;
      const planned = await plannedMemoriesOfBank(sql, bank.bankId);
      if (plannedAsUnseen(planned, bank.memories)) {
        unseen = { ...bank, plannedBefore: planned };
        break;
      }
    }
    if (!unseen) return;
    const startedAt = performance.now();
    await analyzeBankTables(sql);
    const durationMs = Math.round(performance.now() - startedAt);
    const plannedAfter = await plannedMemoriesOfBank(sql, unseen.bankId);
    report.analyzed = { ...unseen, plannedAfter, durationMs };
    const what =
      `ANALYZE ${BANK_STATISTICS_TABLES.join(', ')}: bank ${unseen.bankId} holds ${unseen.memories} memories and was ` +
      `planned as ${unseen.plannedBefore}, now ${plannedAfter}; ${durationMs}ms`;
    if (!plannedAsUnseen(plannedAfter, unseen.memories)) {
      this.logger.log(what);
      return;
    }
    this.misjudgedAfterAnalysis.set(unseen.bankId, unseen.memories);
    this.logger.warn(
      `${what}. Still misjudged: the sample missed the bank, or this role does not own the tables and PostgreSQL ` +
        'skipped the analysis; not analysed for again until the bank doubles',
    );
  }
}
