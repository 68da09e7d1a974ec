import { Inject, Injectable } from '@nestjs/common';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import { type ClaimedOperation, type Operation, type OperationRow, type OperationStatus, toOperation } from './operation.types.js';
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

  /** Inside the caller's transaction, so the operation exists exactly when what queued it does. */
  async enqueue(sql: Sql, bankId: string, kind: string, payload: Record<string, unknown>): Promise<string> {
    const [row] = await sql.query<{ id: string }>(
      `INSERT INTO operations (bank_id, kind, payload) VALUES ($1, $2, $3::jsonb) RETURNING id`,
      [bankId, kind, JSON.stringify(payload)],
    );
    return row.id;
  }

  async get(bankId: string, operationId: string): Promise<Operation | null> {
    if (!isUuid(operationId)) {
      throw new MemoryException(MemoryErrorCode.InvalidInput, `Invalid operation_id format: ${operationId}`, 'operation_id');
    }
    const [row] = await this.database.query<OperationRow>(`SELECT * FROM operations WHERE bank_id = $1 AND id = $2`, [
      bankId,
      operationId,
    ]);
    return row ? toOperation(row) : null;
  }

  async list(
    bankId: string,
    filter: { status?: OperationStatus; kind?: string; limit: number; offset: number },
  ): Promise<{ total: number; items: Operation[] }> {
    return this.database.withConnection(async (sql) => {
      const where = `bank_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)`;
      const params = [bankId, filter.status ?? null, filter.kind ?? null];
      const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM operations WHERE ${where}`, params);
      const rows = await sql.query<OperationRow>(
        `SELECT * FROM operations WHERE ${where} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5`,
        [...params, filter.limit, filter.offset],
      );
      return { total: Number(total), items: rows.map(toOperation) };
    });
  }

  /** Only work nobody has started can be cancelled; what runs finishes or fails on its own. */
  async cancel(bankId: string, operationId: string): Promise<void> {
    const existing = await this.get(bankId, operationId);
    if (!existing) {
      throw new MemoryException(MemoryErrorCode.OperationNotFound, `Operation ${operationId} not found`);
    }
    const { affected } = await this.database.withConnection((sql) =>
      sql.execute(
        `UPDATE operations SET status = 'cancelled', updated_at = now(), completed_at = now()
          WHERE bank_id = $1 AND id = $2 AND status = 'pending'`,
        [bankId, operationId],
      ),
    );
    if (affected === 0) {
      throw new MemoryException(
        MemoryErrorCode.OperationNotCancellable,
        `Operation ${operationId} is ${existing.status} and can no longer be cancelled`,
      );
    }
  }

  /**
   * Takes the oldest claimable operation: pending and not backing off, or processing under a
   * lease that expired (its owner died), whoever the owner was.
   */
  async claim(owner: string, leaseMs: number, kinds: string[]): Promise<ClaimedOperation | null> {
    const [row] = await this.database.query<OperationRow>(
      `UPDATE operations
          SET status = 'processing', lease_owner = $1,
              lease_expires_at = now() + make_interval(secs => $2::double precision / 1000),
              lease_token = nextval('memory_lease_tokens'), attempts = attempts + 1, updated_at = now()
        WHERE id = (
          SELECT id FROM operations
           WHERE kind = ANY($3::text[])
             AND ((status = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= now()))
               OR (status = 'processing' AND lease_expires_at <= now()))
           ORDER BY created_at
           FOR UPDATE SKIP LOCKED
           LIMIT 1)
        RETURNING *`,
      [owner, leaseMs, kinds],
    );
    return row ? { ...toOperation(row), leaseToken: String(row.lease_token) } : null;
  }

  /** Extends a lease we still hold; false once another instance has taken it over. */
  async heartbeat(operation: ClaimedOperation, leaseMs: number): Promise<boolean> {
    const { affected } = await this.database.withConnection((sql) =>
      sql.execute(
        `UPDATE operations SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
          WHERE id = $1 AND lease_token = $2 AND status = 'processing'`,
        [operation.id, operation.leaseToken, leaseMs],
      ),
    );
    return affected === 1;
  }

  /**
   * Locks our operation row inside the caller's write transaction and proves the lease is
   * still ours; paired with `complete` in the same transaction, the effect and the completion
   * commit together or not at all.
   */
  async assertLeaseHeld(sql: Sql, operation: ClaimedOperation): Promise<void> {
    const rows = await sql.query(
      `SELECT 1 FROM operations WHERE id = $1 AND lease_token = $2 AND status = 'processing' FOR UPDATE`,
      [operation.id, operation.leaseToken],
    );
    if (rows.length === 0) throw new LeaseLostError(operation.id);
  }

  async complete(sql: Sql, operation: ClaimedOperation, result: Record<string, unknown>): Promise<void> {
    const { affected } = await sql.execute(
      `UPDATE operations
          SET status = 'completed', result = $3::jsonb, error = NULL, lease_owner = NULL,
              lease_expires_at = NULL, updated_at = now(), completed_at = now()
        WHERE id = $1 AND lease_token = $2 AND status = 'processing'`,
      [operation.id, operation.leaseToken, JSON.stringify(result)],
    );
    if (affected === 0) throw new LeaseLostError(operation.id);
  }

  /** Back to pending after a delay, or failed for good once the attempts are spent. */
  async fail(operation: ClaimedOperation, error: string, retryInMs: number | null): Promise<OperationStatus | null> {
    const [row] = await this.database.query<{ status: OperationStatus }>(
      `UPDATE operations
          SET status = CASE WHEN $4::double precision IS NULL THEN 'failed' ELSE 'pending' END,
              error = $3, lease_owner = NULL, updated_at = now(),
              lease_expires_at = CASE WHEN $4::double precision IS NULL THEN NULL
                                      ELSE now() + make_interval(secs => $4::double precision / 1000) END,
              completed_at = CASE WHEN $4::double precision IS NULL THEN now() ELSE NULL END
        WHERE id = $1 AND lease_token = $2 AND status = 'processing'
        RETURNING status`,
      [operation.id, operation.leaseToken, error, retryInMs],
    );
    return row?.status ?? null;
  }

  /** Hands a claim we are abandoning (shutdown) back to the queue at once, attempt not counted. */
  async release(operation: ClaimedOperation): Promise<void> {
    await this.database.query(
      `UPDATE operations
          SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
              attempts = greatest(attempts - 1, 0), updated_at = now()
        WHERE id = $1 AND lease_token = $2 AND status = 'processing'`,
      [operation.id, operation.leaseToken],
    );
  }
}
