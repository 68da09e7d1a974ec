import { Inject, Injectable } from '@nestjs/common';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import type { ClaimedOperation, Operation, OperationStatus } from './operation.types.js';
import {
  cancelPendingOperation,
  claimOperation,
  completeOperation,
  saveOperationProgress,
  deleteFinishedOperation,
  failOperation,
  insertOperation,
  insertOperationOnce,
  listOperations,
  lockLeasedOperation,
  releaseOperation,
  renewOperationLease,
  requeueFailedOperation,
  selectOperation,
  toOperation,
} from './operations.queries.js';
import { isUuid } from '../storage/uuid.js';

export class LeaseLostError extends Error {
  constructor(operationId: string) {
    super(`Lease on operation ${operationId} was lost to another instance; its write was discarded`);
  }
}

/**
 * The queue of async work, in the `operations` table so that every instance of a fleet shares it.
 * Claims are `FOR UPDATE SKIP LOCKED` with a lease and a fencing token: an instance that dies
 * loses its claims when the lease expires, and one that only stalled finds its token stale and
 * writes nothing.
 */
@Injectable()
export class OperationsService {
  constructor(@Inject(MemoryDatabase) private readonly database: MemoryDatabase) {}

  /**
   * Inside the caller's transaction, so the operation exists exactly when what queued it does;
   * claimable `dueInMs` from now, or at once by default.
   */
  async enqueue(sql: Sql, bankId: string, kind: string, payload: Record<string, unknown>, dueInMs: number | null = null): Promise<string> {
    return insertOperation(sql, bankId, kind, payload, dueInMs);
  }

  /**
   * Enqueues under the client's id, once: the same id again (a retry after a lost answer) returns
   * the original operation and queues nothing; the id of other work is a 409.
   */
  async enqueueOnce(
    sql: Sql,
    bankId: string,
    kind: string,
    payload: Record<string, unknown>,
    operationId: string,
  ): Promise<{ operationId: string; deduplicated: boolean }> {
    const holder = await insertOperationOnce(sql, bankId, kind, payload, operationId);
    if (holder.bankId !== bankId || holder.kind !== kind) {
      throw new MemoryException(
        MemoryErrorCode.Conflict,
        `operation_id ${operationId} already identifies another operation; choose a new id for new work`,
        'operation_id',
      );
    }
    return { operationId, deduplicated: !holder.inserted };
  }

  async get(bankId: string, operationId: string): Promise<Operation | null> {
    if (!isUuid(operationId)) {
      throw new MemoryException(MemoryErrorCode.InvalidInput, `Invalid operation_id format: ${operationId}`, 'operation_id');
    }
    const row = await this.database.withConnection((sql) => selectOperation(sql, bankId, operationId));
    return row ? toOperation(row) : null;
  }

  async list(
    bankId: string,
    filter: { status?: OperationStatus; kind?: string; limit: number; offset: number },
  ): Promise<{ total: number; items: Operation[] }> {
    const { total, rows } = await this.database.withConnection((sql) => listOperations(sql, bankId, filter));
    return { total, items: rows.map(toOperation) };
  }

  /** Only work nobody has started can be cancelled; what runs finishes or fails on its own. */
  async cancel(bankId: string, operationId: string): Promise<void> {
    const existing = await this.get(bankId, operationId);
    if (!existing) {
      throw new MemoryException(MemoryErrorCode.OperationNotFound, `Operation ${operationId} not found`);
    }
    const affected = await this.database.withConnection((sql) => cancelPendingOperation(sql, bankId, operationId));
    if (affected === 0) {
      throw new MemoryException(
        MemoryErrorCode.OperationNotCancellable,
        `Operation ${operationId} is ${existing.status} and can no longer be cancelled`,
      );
    }
  }

  /** Only a failed or cancelled operation is retried, as in Hindsight: anything else is still queued, running, or done. */
  async retry(bankId: string, operationId: string): Promise<void> {
    const existing = await this.get(bankId, operationId);
    if (!existing) throw new MemoryException(MemoryErrorCode.OperationNotFound, `Operation ${operationId} not found`);
    const affected = await this.database.withConnection((sql) => requeueFailedOperation(sql, bankId, operationId));
    if (affected === 0) {
      throw new MemoryException(
        MemoryErrorCode.Conflict,
        `Operation ${operationId} cannot be retried: status is '${existing.status}', expected 'failed' or 'cancelled'`,
        'operation_id',
      );
    }
  }

  /** A queued or running operation is cancelled first: deleting it would lose work silently. */
  async delete(bankId: string, operationId: string): Promise<void> {
    const existing = await this.get(bankId, operationId);
    if (!existing) throw new MemoryException(MemoryErrorCode.OperationNotFound, `Operation ${operationId} not found`);
    const affected = await this.database.withConnection((sql) => deleteFinishedOperation(sql, bankId, operationId));
    if (affected === 0) {
      throw new MemoryException(
        MemoryErrorCode.Conflict,
        `Operation ${operationId} cannot be deleted: status is '${existing.status}', expected 'failed', 'cancelled' or 'completed'`,
        'operation_id',
      );
    }
  }

  async claim(owner: string, leaseMs: number, kinds: string[]): Promise<ClaimedOperation | null> {
    const row = await this.database.withConnection((sql) => claimOperation(sql, owner, leaseMs, kinds));
    return row ? { ...toOperation(row), leaseToken: String(row.lease_token) } : null;
  }

  /** Extends a lease we still hold; false once another instance has taken it over. */
  async heartbeat(operation: ClaimedOperation, leaseMs: number): Promise<boolean> {
    const affected = await this.database.withConnection((sql) => renewOperationLease(sql, operation, leaseMs));
    return affected === 1;
  }

  /**
   * Locks our operation row inside the caller's write transaction and proves the lease is
   * still ours; paired with `complete` in the same transaction, the effect and the completion
   * commit together or not at all.
   */
  async assertLeaseHeld(sql: Sql, operation: ClaimedOperation): Promise<void> {
    if (!(await lockLeasedOperation(sql, operation))) throw new LeaseLostError(operation.id);
  }

  /** Seen as the operation's `result` while it runs; `complete` replaces it. */
  async saveProgress(sql: Sql, operation: ClaimedOperation, progress: Record<string, unknown>): Promise<void> {
    if ((await saveOperationProgress(sql, operation, progress)) === 0) throw new LeaseLostError(operation.id);
  }

  async complete(sql: Sql, operation: ClaimedOperation, result: Record<string, unknown>): Promise<void> {
    const affected = await completeOperation(sql, operation, result);
    if (affected === 0) throw new LeaseLostError(operation.id);
  }

  /** Back to pending after a delay, or failed for good once the attempts are spent. */
  async fail(operation: ClaimedOperation, error: string, retryInMs: number | null): Promise<OperationStatus | null> {
    const status = await this.database.withConnection((sql) => failOperation(sql, operation, error, retryInMs));
    return status ?? null;
  }

  /** Hands a claim we are abandoning (shutdown) back to the queue at once, attempt not counted. */
  async release(operation: ClaimedOperation): Promise<void> {
    await this.database.withConnection((sql) => releaseOperation(sql, operation));
  }
}
