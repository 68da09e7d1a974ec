import type { Sql } from '../storage/memory-database.js';
import type { Operation, OperationStatus } from './operation.types.js';

/**
 * The SQL of the operations queue. Claims are `FOR UPDATE SKIP LOCKED` with a lease and a
 * fencing token (docs/ARCHITECTURE.md, "Leases and fencing tokens"): every write about a claimed
 * operation is conditioned on `lease_token = $2 AND status = 'processing'`, so one whose lease was
 * taken over changes nothing.
 */

export interface OperationRow {
  id: string;
  bank_id: string;
  kind: string;
  status: OperationStatus;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  lease_token: string | null;
  lease_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

export function toOperation(row: OperationRow): Operation {
  return {
    id: row.id,
    bankId: row.bank_id,
    kind: row.kind,
    status: row.status,
    payload: row.payload,
    result: row.result,
    error: row.error,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    // On a pending row the lease expiry doubles as the backoff (see `failOperation`).
    nextRetryAt: row.status === 'pending' ? row.lease_expires_at : null,
  };
}

/** Which claim a write is about: it changes something only while this token still holds. */
export interface OperationLease {
  id: string;
  leaseToken: string;
}

/** `dueInMs`: not claimable before then (the lease expiry of a pending row is its backoff). */
export async function insertOperation(
  sql: Sql,
  bankId: string,
  kind: string,
  payload: Record<string, unknown>,
  dueInMs: number | null = null,
): Promise<string> {
  const [row] = await sql.query<{ id: string }>(
    `INSERT INTO operations (bank_id, kind, payload, lease_expires_at)
     VALUES ($1, $2, $3::jsonb, now() + make_interval(secs => $4::double precision / 1000))
     RETURNING id`,
    [bankId, kind, JSON.stringify(payload), dueInMs],
  );
  return row.id;
}

/**
 * Enqueues under an id the client chose (Hindsight's `operation_id`), once: a second insert of
 * the id in the bank inserts nothing. Returns the operation holding the id, with its bank and
 * kind, so that the caller can tell a repeat from a reuse of the id for other work.
 */
export async function insertOperationOnce(
  sql: Sql,
  bankId: string,
  kind: string,
  payload: Record<string, unknown>,
  operationId: string,
): Promise<{ bankId: string; kind: string; inserted: boolean }> {
  // Locks out a concurrent insert of the same id until this transaction ends, across banks too:
  // the key leads with the bank, so it alone would let one id into two banks.
  await sql.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`operation:${operationId}`]);
  const [existing] = await sql.query<{ bank_id: string; kind: string }>(`SELECT bank_id, kind FROM operations WHERE id = $1`, [
    operationId,
  ]);
  if (existing) return { bankId: existing.bank_id, kind: existing.kind, inserted: false };
  await sql.query(`INSERT INTO operations (id, bank_id, kind, payload) VALUES ($1, $2, $3, $4::jsonb)`, [
    operationId,
    bankId,
    kind,
    JSON.stringify(payload),
  ]);
  return { bankId, kind, inserted: true };
}

export async function selectOperation(sql: Sql, bankId: string, operationId: string): Promise<OperationRow | undefined> {
  const [row] = await sql.query<OperationRow>(`SELECT * FROM operations WHERE bank_id = $1 AND id = $2`, [bankId, operationId]);
  return row;
}

/** One page, newest first, and how many match in all. */
export async function listOperations(
  sql: Sql,
  bankId: string,
  filter: { status?: OperationStatus; kind?: string; limit: number; offset: number },
): Promise<{ total: number; rows: OperationRow[] }> {
  const where = `bank_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)`;
  const params = [bankId, filter.status ?? null, filter.kind ?? null];
  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM operations WHERE ${where}`, params);
  const rows = await sql.query<OperationRow>(`SELECT * FROM operations WHERE ${where} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5`, [
    ...params,
    filter.limit,
    filter.offset,
  ]);
  return { total: Number(total), rows };
}

/** Only a pending operation is cancelled; returns how many rows changed (0 or 1). */
export async function cancelPendingOperation(sql: Sql, bankId: string, operationId: string): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE operations SET status = 'cancelled', updated_at = now(), completed_at = now()
      WHERE bank_id = $1 AND id = $2 AND status = 'pending'`,
    [bankId, operationId],
  );
  return affected;
}

/**
 * A failed or cancelled operation goes back to the queue, due at once, with a fresh budget of
 * attempts: the caller asked for it explicitly, so the automatic retries it already spent do not
 * count. Returns how many rows changed (0 when it is not, or no longer, failed or cancelled).
 */
export async function requeueFailedOperation(sql: Sql, bankId: string, operationId: string): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE operations
        SET status = 'pending', attempts = 0, error = NULL, result = NULL, lease_owner = NULL,
            lease_expires_at = NULL, updated_at = now(), completed_at = NULL
      WHERE bank_id = $1 AND id = $2 AND status IN ('failed', 'cancelled')`,
    [bankId, operationId],
  );
  return affected;
}

/** Only a finished operation's record is removed; returns how many rows went (0 or 1). */
export async function deleteFinishedOperation(sql: Sql, bankId: string, operationId: string): Promise<number> {
  const { affected } = await sql.execute(
    `DELETE FROM operations WHERE bank_id = $1 AND id = $2 AND status IN ('failed', 'cancelled', 'completed')`,
    [bankId, operationId],
  );
  return affected;
}

/**
 * Takes the oldest claimable operation: pending and not backing off, or processing under a
 * lease that expired (its owner died), whoever the owner was.
 */
export async function claimOperation(sql: Sql, owner: string, leaseMs: number, kinds: string[]): Promise<OperationRow | undefined> {
  const [row] = await sql.query<OperationRow>(
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
  return row;
}

/** Extends a lease we still hold; returns how many rows changed (0 once it was taken over). */
export async function renewOperationLease(sql: Sql, lease: OperationLease, leaseMs: number): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE operations SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
      WHERE id = $1 AND lease_token = $2 AND status = 'processing'`,
    [lease.id, lease.leaseToken, leaseMs],
  );
  return affected;
}

/**
 * Locks our operation row inside the caller's write transaction; true while the lease is still
 * ours. Paired with `completeOperation` in the same transaction, the effect and the completion
 * commit together or not at all.
 */
export async function lockLeasedOperation(sql: Sql, lease: OperationLease): Promise<boolean> {
  const rows = await sql.query(`SELECT 1 FROM operations WHERE id = $1 AND lease_token = $2 AND status = 'processing' FOR UPDATE`, [
    lease.id,
    lease.leaseToken,
  ]);
  return rows.length > 0;
}

/** Returns how many rows changed: 0 when the lease was lost. */
/**
 * A long operation's checkpoint, written in the same transaction as the work it records, so that
 * an attempt taken over after a crash resumes after the last committed step instead of redoing it.
 */
export async function saveOperationProgress(sql: Sql, lease: OperationLease, progress: Record<string, unknown>): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE operations SET result = $3::jsonb, updated_at = now() WHERE id = $1 AND lease_token = $2 AND status = 'processing'`,
    [lease.id, lease.leaseToken, JSON.stringify(progress)],
  );
  return affected;
}

export async function completeOperation(sql: Sql, lease: OperationLease, result: Record<string, unknown>): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE operations
        SET status = 'completed', result = $3::jsonb, error = NULL, lease_owner = NULL,
            lease_expires_at = NULL, updated_at = now(), completed_at = now()
      WHERE id = $1 AND lease_token = $2 AND status = 'processing'`,
    [lease.id, lease.leaseToken, JSON.stringify(result)],
  );
  return affected;
}

/**
 * Back to pending, due again in `retryInMs` (the lease expiry doubles as the backoff), or failed
 * for good when `retryInMs` is null. Returns the new status, or undefined when the lease was lost.
 */
export async function failOperation(
  sql: Sql,
  lease: OperationLease,
  error: string,
  retryInMs: number | null,
): Promise<OperationStatus | undefined> {
  const [row] = await sql.query<{ status: OperationStatus }>(
    `UPDATE operations
        SET status = CASE WHEN $4::double precision IS NULL THEN 'failed' ELSE 'pending' END,
            error = $3, lease_owner = NULL, updated_at = now(),
            lease_expires_at = CASE WHEN $4::double precision IS NULL THEN NULL
                                    ELSE now() + make_interval(secs => $4::double precision / 1000) END,
            completed_at = CASE WHEN $4::double precision IS NULL THEN now() ELSE NULL END
      WHERE id = $1 AND lease_token = $2 AND status = 'processing'
      RETURNING status`,
    [lease.id, lease.leaseToken, error, retryInMs],
  );
  return row?.status;
}

/** Hands a claim back to the queue at once, the attempt not counted. */
export async function releaseOperation(sql: Sql, lease: OperationLease): Promise<void> {
  await sql.query(
    `UPDATE operations
        SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
            attempts = greatest(attempts - 1, 0), updated_at = now()
      WHERE id = $1 AND lease_token = $2 AND status = 'processing'`,
    [lease.id, lease.leaseToken],
  );
}
