import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { AuditSettings, ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import {
  type AuditLogFilter,
  type AuditLogRow,
  auditCountsByBucket,
  finishAuditEntry,
  insertAuditEntry,
  listAuditEntries,
  transactionHasWritten,
} from './audit-log.queries.js';
import { type StatsPeriod, statsPeriodStart } from '../metrics/stats-period.js';
import { type AuditCaller, type AuditDraft, AuditScope, type AuditTransport, currentAuditScope, runInAuditScope } from './audit-scope.js';

export type AuditPeriod = StatsPeriod;

export interface AuditStats {
  period: AuditPeriod;
  trunc: 'hour' | 'day';
  start: Date;
  buckets: Array<{ time: Date; actions: Record<string, number>; total: number }>;
}

export interface AuditRequest {
  bankId: string;
  action: string;
  transport: AuditTransport;
  caller: AuditCaller;
  request: Record<string, unknown> | null;
}

/**
 * The audit log (docs/ARCHITECTURE.md, "The audit log"). A request that may write runs in an
 * audit scope; the first of its transactions that has written inserts the entry just before it
 * commits, so an entry exists exactly when a write of the request does, and a request that wrote
 * nothing (refused, not found, read only) leaves none. The outcome (status, ids) follows in a
 * second statement once the response is known.
 */
@Injectable()
export class AuditLogService {
  private readonly logger = new Logger(AuditLogService.name);
  readonly settings: AuditSettings;

  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MEMORY_OPTIONS) options: ResolvedMemoryOptions,
  ) {
    this.settings = options.audit;
    if (!this.settings.enabled) return;
    database.addCommitParticipant({
      wantsTransaction: () => currentAuditScope()?.written === false,
      beforeCommit: (sql) => this.writeEntryIfWritten(sql),
    });
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Opens the scope of one request; `work` runs in it. Nothing is recorded when the log is off. */
  open(request: AuditRequest): AuditScope | null {
    if (!this.settings.enabled) return null;
    const draft: AuditDraft = {
      id: randomUUID(),
      bankId: request.bankId,
      action: request.action,
      transport: request.transport,
      actor: request.caller.actor,
      requestId: request.caller.requestId,
      startedAt: new Date(),
      request: request.request,
    };
    return new AuditScope(draft);
  }

  run<T>(scope: AuditScope | null, work: () => T): T {
    return scope ? runInAuditScope(scope, work) : work();
  }

  /** Records how the request ended, when it wrote something; never fails the request. */
  async finish(scope: AuditScope | null, statusCode: number | null, response: Record<string, unknown> | null): Promise<void> {
    if (!scope?.written) return;
    try {
      await this.database.withConnection((sql) => finishAuditEntry(sql, scope.draft.bankId, scope.draft.id, statusCode, response));
    } catch (error) {
      this.logger.warn(`Could not record the outcome of audit entry ${scope.draft.id}: ${errorMessage(error)}`);
    }
  }

  async list(bankId: string, filter: AuditLogFilter): Promise<{ total: number; rows: AuditLogRow[] }> {
    return this.database.withConnection((sql) => listAuditEntries(sql, bankId, filter));
  }

  async stats(bankId: string, period: AuditPeriod, action: string | undefined, now = new Date()): Promise<AuditStats> {
    // Hourly bars for a day, daily ones beyond: both give a chart of 24 to 30 bars.
    const trunc = period === '1d' ? 'hour' : 'day';
    const start = statsPeriodStart(period, now);
    const rows = await this.database.withConnection((sql) => auditCountsByBucket(sql, bankId, trunc, start, action));
    const buckets = new Map<number, AuditStats['buckets'][number]>();
    for (const row of rows) {
      const time = new Date(row.bucket);
      const bucket = buckets.get(time.getTime()) ?? { time, actions: {}, total: 0 };
      bucket.actions[row.action] = Number(row.n);
      bucket.total += Number(row.n);
      buckets.set(time.getTime(), bucket);
    }
    return { period, trunc, start, buckets: [...buckets.values()] };
  }

  private async writeEntryIfWritten(sql: Sql): Promise<void> {
    const scope = currentAuditScope();
    if (!scope || scope.written) return;
    if (!(await transactionHasWritten(sql))) return;
    await insertAuditEntry(sql, scope.draft);
    // Set before the commit: if the commit itself fails, the write and its entry are both gone,
    // and the request fails with them.
    scope.written = true;
  }
}
