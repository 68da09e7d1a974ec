import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { WakeableSleep } from '../lifecycle/wakeable-sleep.js';
import { RepeatedFailureLog } from '../logging/repeated-failure-log.js';
import { MEMORY_OPTIONS, MEMORY_VECTOR_BACKEND } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import {
  BANK_INDEX_KINDS,
  type BankIndexKind,
  type BankIndexState,
  RETIRED_BANK_INDEXES,
  type RetiredBankIndexKind,
  backendPid,
  bankHasOwnIndex,
  bankIndexChanges,
  cancelBackend,
  createBankIndex,
  dropBankIndex,
  dropSharedIndex,
  hnswBuildBytes,
  MAINTENANCE_LOCK,
  retiredBankIndexes,
  withBuildMemory,
} from './bank-vector-indexes.queries.js';
import { bankHoldsFewerThan } from './bank-size.queries.js';
import { MemoryDatabase, type Sql, detachedFromConnection } from './memory-database.js';
import { inTurnOfTheFleet } from './session-lock.queries.js';
import { isPgliteDataSource } from './pglite/pglite-statistics.js';
import { type SharedIndexPolicy, type VectorBackend, recordVectorIndexes, sharedIndexName } from './vector-backend.js';

/** How long shutdown waits for a cancelled build to end before cancelling it again. */
const CANCEL_AGAIN_AFTER_MS = 200;

/** What one round of maintenance did, or why it did nothing. */
export interface BankIndexReport {
  skipped?: 'disabled' | 'no-pgvector' | 'pglite' | 'pool-of-one' | 'another-instance' | 'stopped';
  created: Array<{ bankId: string; kind: BankIndexKind; indexName: string; memories: number; durationMs: number }>;
  dropped: Array<{
    bankId: string | null;
    kind: BankIndexKind | RetiredBankIndexKind;
    indexName: string;
    reason: 'bank-gone-or-shrunk' | 'left-invalid' | 'shared-index-unused' | 'retired-kind';
  }>;
  failed: Array<{ indexName: string; error: string }>;
}

/**
 * Why this configuration builds no bank indexes, if it does not, before knowing the vector back
 * end; where they are built there is no shared index (src/storage/vector-backend.ts).
 */
export function bankIndexesOff(options: ResolvedMemoryOptions, dataSource: DataSource): 'disabled' | 'pglite' | 'pool-of-one' | undefined {
  const { minMemories, onPglite } = options.bankVectorIndexes;
  if (minMemories === null) return 'disabled';
  // PGlite builds on the thread that serves every request: a bank's index would stop the
  // process for the whole build. Hosts that accept that turn it on.
  if (isPgliteDataSource(dataSource)) return onPglite ? undefined : 'pglite';
  // A build holds its connection for as long as it takes: on a pool of one, every request
  // would wait for it.
  if (!options.dataSource && options.poolSize < 2) return 'pool-of-one';
  return undefined;
}

/** What this configuration does with the HNSW index every bank shares, given whether it builds bank indexes. */
export function sharedIndexPolicy(options: ResolvedMemoryOptions, dataSource: DataSource): SharedIndexPolicy {
  const off = bankIndexesOff(options, dataSource);
  if (off === undefined) return 'none';
  // Only its pool keeps this instance from building them: it follows the rest of the fleet.
  return off === 'pool-of-one' ? 'unless-banks-have-their-own' : 'create';
}

/**
 * HNSW indexes of their own for the large banks (docs/ARCHITECTURE.md, "Recall at scale"), the
 * only HNSW indexes where they are built. One index shared by every bank filters by bank after
 * its walk, so a bank that is a small share of the rows pays for the other banks' neighbours,
 * and at a small enough share the iterative scan stops at `hnsw.max_scan_tuples` with fewer
 * results than asked; and it holds the rows of the small banks, which recall scans exactly, at
 * the cost of a graph insertion per retained memory. A partial index per large bank
 * (`WHERE bank_id = '…'`) is walked without a filter; the semantic arm needs no change, as the
 * planner takes the index whose predicate the bound bank id proves, and scans a bank exactly
 * until its index is built. A large bank that is not most of the database gets a full-text (GIN)
 * index of its own the same way, so that its keyword search reads its own postings alone; the
 * shared full-text index stays, for the banks in between. Every large bank also gets an index
 * the keyword arm walks its newest memories on without reading the table (`BankIndexKind`).
 *
 * One instance of a fleet maintains them at a time (a session advisory lock), on one pooled
 * connection, with `CREATE INDEX CONCURRENTLY`, so retains go on while a bank's index is built.
 * A build cancelled by shutdown, or lost with its instance, leaves an invalid index, which the
 * planner ignores and the next round, on any instance, drops and builds again.
 */
@Injectable()
export class BankVectorIndexService {
  private readonly logger = new Logger(BankVectorIndexService.name);
  private readonly failures = new RepeatedFailureLog(this.logger, 'BankVectorIndexService', 'maintain the large banks’ own indexes');
  private timer?: NodeJS.Timeout;
  private running?: Promise<BankIndexReport>;
  /** The backend building or dropping an index right now, which shutdown cancels. */
  private busyBackend: number | null = null;
  private stopped = false;

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MEMORY_VECTOR_BACKEND) private readonly vectors: VectorBackend,
  ) {}

  /** Called by MemoryLifecycle; the first round starts at once, in the background. */
  start(): void {
    if (this.whyNot()) return;
    this.timer = setInterval(() => void this.maintain(), this.options.bankVectorIndexes.intervalMs);
    this.coordinator.register('watchdog', 'bank-vector-indexes', () => this.stop());
    void this.maintain();
  }

  /**
   * One round: the changes the rule asks for, made one index at a time. Shared with a round
   * already under way; scheduled every `bankVectorIndexes.intervalMs`, public for hosts and tests.
   */
  maintain(): Promise<BankIndexReport> {
    const skipped = this.whyNot() ?? (this.stopped ? 'stopped' : undefined);
    if (skipped) return Promise.resolve({ skipped, created: [], dropped: [], failed: [] });
    this.running ??= this.maintainOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Recall found `bankId` large enough to walk an index (asked once a minute per bank and
   * instance). A bank without its own index yet is scanned exactly until a round builds it: the
   * round starts now, in the background, instead of at its next interval, so that a bank filled by
   * a bulk import is not scanned whole for minutes. Checked on the caller's connection (a catalog
   * lookup, and the bank's size only when the index is missing); the round takes its own. Embeddings
   * that no HNSW index can hold want none: the other kinds come with the scheduled rounds.
   */
  async indexWanted(sql: Sql, bankId: string): Promise<void> {
    if (this.whyNot() || this.stopped || this.running || this.vectors.hnswOperand === null) return;
    if (await bankHasOwnIndex(sql, this.vectors.dimension, bankId)) return;
    // Recall's line (`exactScanBelow`) may be lower than this one: no round for a bank below it.
    if (await bankHoldsFewerThan(sql, bankId, this.options.bankVectorIndexes.minMemories!)) return;
    detachedFromConnection(() => void this.maintain());
  }

  private whyNot(): BankIndexReport['skipped'] {
    const off = bankIndexesOff(this.options, this.database.dataSource);
    // Turned off is reported as such whatever the back end.
    if (off === 'disabled') return off;
    return this.vectors.kind === 'pgvector' ? off : 'no-pgvector';
  }

  private async maintainOnce(): Promise<BankIndexReport> {
    const report: BankIndexReport = { created: [], dropped: [], failed: [] };
    const { minMemories } = this.options.bankVectorIndexes;
    try {
      await this.database.withConnection(async (sql) => {
        const ran = await inTurnOfTheFleet(sql, MAINTENANCE_LOCK, async () => {
          const pid = await backendPid(sql);
          await this.dropRetired(sql, pid, report);
          const { dimension, hnswOperand } = this.vectors;
          const changes = await bankIndexChanges(sql, { dimension, hnswOperand, minMemories: minMemories! });
          for (const change of changes) {
            if (this.stopped) {
              report.skipped = 'stopped';
              break;
            }
            try {
              await this.cancellableOn(pid, () => this.apply(sql, change, report));
            } catch (error) {
              if (this.stopped) throw error;
              report.failed.push({ indexName: change.indexName, error: errorMessage(error) });
              this.logger.warn(
                `Index ${change.indexName} of bank ${change.bankId ?? '(gone)'}: ${change.action} failed: ${errorMessage(error)}`,
              );
            }
          }
          if (!report.skipped && report.failed.length === 0) await this.dropSharedIndexOnce(sql, pid, report);
        });
        if (!ran) report.skipped = 'another-instance';
      });
      this.failures.succeeded();
    } catch (error) {
      if (this.stopped) {
        this.logger.log(`Bank index maintenance stopped by shutdown: ${errorMessage(error)}; the next round finishes it`);
        report.skipped = 'stopped';
      } else {
        this.failures.failed(error);
      }
    }
    return report;
  }

  /** Runs `work` on backend `pid` as the one shutdown cancels (`stop`), a build or drop of minutes. */
  private async cancellableOn<T>(pid: number, work: () => Promise<T>): Promise<T> {
    this.busyBackend = pid;
    try {
      return await work();
    } finally {
      this.busyBackend = null;
    }
  }

  /**
   * Drops the indexes of kinds that earlier versions built (`RETIRED_BANK_INDEXES`), first: while
   * one is there, a memory too large for its entries cannot be written to its bank.
   */
  private async dropRetired(sql: Sql, pid: number, report: BankIndexReport): Promise<void> {
    for (const { indexName, kind } of await retiredBankIndexes(sql)) {
      if (this.stopped) return;
      await this.cancellableOn(pid, () => dropBankIndex(sql, indexName));
      report.dropped.push({ bankId: null, kind, indexName, reason: 'retired-kind' });
      this.logger.log(`Dropped ${RETIRED_BANK_INDEXES[kind].label} index ${indexName}: this version builds no index of that kind`);
    }
  }

  /**
   * Every large bank now has its own index: the shared one a database may hold from before (or
   * from instances configured without bank indexes) serves only banks that recall scans exactly.
   * Dropped concurrently, so recall and retain go on; cancelled by shutdown like a build.
   */
  private async dropSharedIndexOnce(sql: Sql, pid: number, report: BankIndexReport): Promise<void> {
    if (!(await this.cancellableOn(pid, () => dropSharedIndex(sql, this.vectors.dimension)))) return;
    await recordVectorIndexes(sql, 'per-bank');
    const indexName = sharedIndexName(this.vectors.dimension);
    report.dropped.push({ bankId: null, kind: 'hnsw', indexName, reason: 'shared-index-unused' });
    this.logger.log(
      `Dropped the shared HNSW index ${indexName}: every bank of ${this.options.bankVectorIndexes.minMemories} memories or more ` +
        'has its own, and recall scans smaller banks exactly',
    );
  }

  private async apply(sql: Sql, change: BankIndexState, report: BankIndexReport): Promise<void> {
    const { bankId, kind, indexName } = change;
    const what = `${BANK_INDEX_KINDS[kind].label} index ${indexName}`;
    if (change.action === 'drop' || change.action === 'rebuild') {
      await dropBankIndex(sql, indexName);
      const reason = change.action === 'drop' ? 'bank-gone-or-shrunk' : 'left-invalid';
      report.dropped.push({ bankId, kind, indexName, reason });
      this.logger.log(
        change.action === 'drop'
          ? `Dropped ${what}: its bank ${bankId === null ? 'is gone' : `${bankId} holds ${change.memories} memories`}`
          : `Dropped ${what} of bank ${bankId}, left invalid by an interrupted build`,
      );
    }
    if (change.action === 'create' || change.action === 'rebuild') {
      const startedAt = performance.now();
      const build = () => createBankIndex(sql, this.vectors, bankId!, { kind });
      const memoryBytes = this.buildMemoryBytes(kind, change.memories);
      await (memoryBytes === null ? build() : withBuildMemory(sql, memoryBytes, build));
      const durationMs = Math.round(performance.now() - startedAt);
      report.created.push({ bankId: bankId!, kind, indexName, memories: change.memories, durationMs });
      this.logger.log(`Built ${what} for bank ${bankId} (${change.memories} memories) in ${durationMs}ms`);
    }
  }

  /**
   * The `maintenance_work_mem` a build asks for, or `null` for the server's setting: a full-text
   * build keeps it (only the graph has a size to fit), and so does PGlite, whose memory is the
   * process's own.
   */
  private buildMemoryBytes(kind: BankIndexKind, memories: number): number | null {
    const limitMb = this.options.bankVectorIndexes.buildMemoryMb;
    if (kind !== 'hnsw' || limitMb === null || isPgliteDataSource(this.database.dataSource)) return null;
    return Math.min(hnswBuildBytes(memories, this.vectors), limitMb * 1024 * 1024);
  }

  /**
   * Stops the schedule and cancels a build under way (PostgreSQL): a build of a large bank takes
   * minutes, longer than a shutdown may. On PGlite the build cannot be interrupted and is waited for.
   */
  private async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (isPgliteDataSource(this.database.dataSource)) {
      await this.running;
      return;
    }
    // A cancel that reaches the backend between two statements cancels nothing, and the build
    // would then start: asked again until the round is over, which ends the pause at once.
    const pause = new WakeableSleep(new AbortController().signal);
    void this.running?.finally(() => pause.wake());
    while (this.running) {
      const pid = this.busyBackend;
      if (pid !== null) {
        await this.database
          .withConnection((sql) => cancelBackend(sql, pid))
          .catch((error: unknown) => {
            this.logger.warn(`Could not cancel the index build on backend ${pid}: ${errorMessage(error)}`);
          });
      }
      await pause.sleep(CANCEL_AGAIN_AFTER_MS);
    }
  }
}
