import type { Sql } from '../storage/memory-database.js';
import type { AuditDraft } from './audit-scope.js';

export interface AuditLogRow {
  bank_id: string;
  id: string;
  action: string;
  transport: string;
  actor: string;
  request_id: string;
  started_at: Date;
  ended_at: Date | null;
  status_code: number | null;
  request: Record<string, unknown> | null;
  response: Record<string, unknown> | null;
}

export interface AuditLogFilter {
  action?: string;
  transport?: string;
  startDate?: Date;
  endDate?: Date;
  limit: number;
  offset: number;
}

/**
 * True once the current transaction has written anything: PostgreSQL gives a transaction an id
 * at its first write (or row lock), never for reads, so a request that only read leaves no entry.
 */
export async function transactionHasWritten(sql: Sql): Promise<boolean> {
  const [row] = await sql.query<{ wrote: boolean }>(`SELECT txid_current_if_assigned() IS NOT NULL AS wrote`);
  return row.wrote;
}

/** Two transactions of one request may both get here first: the entry is written once. */
export async function insertAuditEntry(sql: Sql, draft: AuditDraft): Promise<void> {
  await sql.query(
    `INSERT INTO audit_log (bank_id, id, action, transport, actor, request_id, started_at, request)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
     ON CONFLICT (bank_id, id) DO NOTHING`,
    [draft.bankId, draft.id, draft.action, draft.transport, draft.actor, draft.requestId, draft.startedAt, json(draft.request)],
  );
}

/** The request's outcome, known only once its response is sent: after the entry's commit. */
export async function finishAuditEntry(
  sql: Sql,
  bankId: string,
  id: string,
  statusCode: number | null,
  response: Record<string, unknown> | null,
): Promise<void> {
  await sql.query(
    `UPDATE audit_log SET ended_at = clock_timestamp(), status_code = $3, response = $4::jsonb WHERE bank_id = $1 AND id = $2`,
    [bankId, id, statusCode, json(response)],
  );
}

export async function listAuditEntries(sql: Sql, bankId: string, filter: AuditLogFilter): Promise<{ total: number; rows: AuditLogRow[] }> {
  const { where, params } = whereOf(bankId, filter);
  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM audit_log WHERE ${where}`, params);
  const rows = await sql.query<AuditLogRow>(
    `SELECT bank_id, id, action, transport, actor, request_id, started_at, ended_at, status_code, request, response
       FROM audit_log WHERE ${where}
      ORDER BY started_at DESC, id
      LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, filter.limit, filter.offset],
  );
  return { total: Number(total), rows };
}

export interface AuditBucketRow {
  bucket: Date;
  action: string;
  n: string;
}

export async function auditCountsByBucket(
  sql: Sql,
  bankId: string,
  trunc: 'hour' | 'day',
  since: Date,
  action: string | undefined,
): Promise<AuditBucketRow[]> {
  return sql.query<AuditBucketRow>(
    `SELECT date_trunc('${trunc}', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, action, count(*) AS n
       FROM audit_log
      WHERE bank_id = $1 AND started_at >= $2 AND ($3::text IS NULL OR action = $3)
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [bankId, since, action ?? null],
  );
}

/**
 * Entries past retention, a bounded number per call so that one sweep never holds a long
 * transaction; the watchdog calls it every round, which keeps up with any realistic write rate.
 */
export async function pruneAuditLog(sql: Sql, retentionDays: number, limit = 1000): Promise<number> {
  const { affected } = await sql.execute(
    `DELETE FROM audit_log WHERE (bank_id, id) IN (
       SELECT bank_id, id FROM audit_log WHERE started_at < now() - make_interval(days => $1) LIMIT $2)`,
    [retentionDays, limit],
  );
  return affected;
}

function whereOf(bankId: string, filter: AuditLogFilter): { where: string; params: unknown[] } {
  const clauses = ['bank_id = $1'];
  const params: unknown[] = [bankId];
  const add = (clause: (n: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(`$${params.length}`));
  };
  if (filter.action) add((n) => `action = ${n}`, filter.action);
  if (filter.transport) add((n) => `transport = ${n}`, filter.transport);
  if (filter.startDate) add((n) => `started_at >= ${n}`, filter.startDate);
  if (filter.endDate) add((n) => `started_at < ${n}`, filter.endDate);
  return { where: clauses.join(' AND '), params };
}

function json(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}
