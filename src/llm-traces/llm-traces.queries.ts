import type { Sql } from '../storage/memory-database.js';

/** One traced call, as written: texts already redacted and cut to size. */
export interface NewLlmRequest {
  bankId: string;
  operation: string | null;
  scope: string | null;
  traceId: string | null;
  spanId: string;
  provider: string;
  model: string;
  status: 'success' | 'error';
  startedAt: Date;
  endedAt: Date;
  durationMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  totalTokens: number | null;
  input: unknown;
  output: unknown;
  error: string | null;
  llmInfo: object;
  metadata: object;
}

export interface LlmRequestRow {
  id: string;
  bank_id: string;
  operation: string | null;
  scope: string | null;
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  provider: string | null;
  model: string | null;
  status: string;
  started_at: Date;
  ended_at: Date | null;
  duration_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  total_tokens: number | null;
  input: unknown;
  output: unknown;
  error: string | null;
  llm_info: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
}

export interface LlmRequestFilter {
  status?: string;
  operation?: string;
  scope?: string;
  provider?: string;
  traceId?: string;
  documentId?: string;
  /** Inclusive. */
  startDate?: Date;
  /** Exclusive. */
  endDate?: Date;
}

export interface LlmRequestBucketRow {
  /** ISO 8601 in UTC, as Hindsight writes it: `2026-12-02T00:00:00+00:00`. */
  time: string;
  status: string;
  count: number;
  input_tokens: string | number;
  output_tokens: string | number;
  cached_tokens: string | number;
  total_tokens: string | number;
}

const COLUMNS = `id, bank_id, operation, scope, trace_id, span_id, parent_span_id, provider, model, status, started_at, ended_at,
  duration_ms, input_tokens, output_tokens, cached_tokens, total_tokens, input, output, error, llm_info, metadata`;

/** A run is one trace; a call traced without one is a run of its own (Hindsight's rule). */
const RUN_KEY = `COALESCE(trace_id, 'single:' || id::text)`;

export async function insertLlmRequest(sql: Sql, row: NewLlmRequest): Promise<void> {
  await sql.query(
    `INSERT INTO llm_requests (bank_id, operation, scope, trace_id, span_id, provider, model, status, started_at, ended_at,
       duration_ms, input_tokens, output_tokens, cached_tokens, total_tokens, input, output, error, llm_info, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17::jsonb, $18, $19::jsonb, $20::jsonb)`,
    [
      row.bankId,
      row.operation,
      row.scope,
      row.traceId,
      row.spanId,
      row.provider,
      row.model,
      row.status,
      row.startedAt,
      row.endedAt,
      row.durationMs,
      row.inputTokens,
      row.outputTokens,
      row.cachedTokens,
      row.totalTokens,
      row.input === null || row.input === undefined ? null : JSON.stringify(row.input),
      row.output === null || row.output === undefined ? null : JSON.stringify(row.output),
      row.error,
      JSON.stringify(row.llmInfo),
      JSON.stringify(row.metadata),
    ],
  );
}

/**
 * At most `limit` of the bank's traces older than the retention, oldest first: bounded, and found
 * through `(bank_id, started_at)`, so each insert pays for a few rows rather than a table scan.
 */
export async function deleteExpiredLlmRequests(sql: Sql, bankId: string, retentionDays: number, limit: number): Promise<number> {
  const { affected } = await sql.execute(
    `DELETE FROM llm_requests
      WHERE bank_id = $1
        AND id IN (SELECT id FROM llm_requests
                    WHERE bank_id = $1 AND started_at < now() - make_interval(days => $2)
                    ORDER BY started_at LIMIT $3)`,
    [bankId, retentionDays, limit],
  );
  return affected;
}

function whereOf(bankId: string, filter: LlmRequestFilter): { where: string; params: unknown[] } {
  const clauses = ['bank_id = $1'];
  const params: unknown[] = [bankId];
  const add = (clause: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(`$${params.length}`));
  };
  if (filter.status) add((p) => `status = ${p}`, filter.status);
  if (filter.operation) add((p) => `operation = ${p}`, filter.operation);
  if (filter.scope) add((p) => `scope = ${p}`, filter.scope);
  if (filter.provider) add((p) => `provider = ${p}`, filter.provider);
  if (filter.traceId) add((p) => `trace_id = ${p}`, filter.traceId);
  if (filter.documentId !== undefined) add((p) => `metadata->>'document_id' = ${p}`, filter.documentId);
  if (filter.startDate) add((p) => `started_at >= ${p}`, filter.startDate);
  if (filter.endDate) add((p) => `started_at < ${p}`, filter.endDate);
  return { where: clauses.join(' AND '), params };
}

/** One page of calls, newest first, and how many match in all. */
export async function llmRequestsPage(
  sql: Sql,
  bankId: string,
  filter: LlmRequestFilter,
  limit: number,
  offset: number,
): Promise<{ rows: LlmRequestRow[]; total: number }> {
  const { where, params } = whereOf(bankId, filter);
  const [{ total }] = await sql.query<{ total: string }>(`SELECT count(*) AS total FROM llm_requests WHERE ${where}`, params);
  const rows = await sql.query<LlmRequestRow>(
    `SELECT ${COLUMNS} FROM llm_requests WHERE ${where}
      ORDER BY started_at DESC, id
      LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, limit, offset],
  );
  return { rows, total: Number(total) };
}

/**
 * One page of runs, the most recently active first, each with all its matching calls (newest
 * first): a run is never split across pages. `total` counts runs.
 */
export async function llmRequestRunsPage(
  sql: Sql,
  bankId: string,
  filter: LlmRequestFilter,
  limit: number,
  offset: number,
): Promise<{ rows: LlmRequestRow[]; total: number }> {
  const { where, params } = whereOf(bankId, filter);
  const [{ total }] = await sql.query<{ total: string }>(
    `SELECT count(*) AS total FROM (SELECT 1 FROM llm_requests WHERE ${where} GROUP BY ${RUN_KEY}) runs`,
    params,
  );
  const keys = await sql.query<{ run_key: string }>(
    `SELECT ${RUN_KEY} AS run_key, max(started_at) AS run_end FROM llm_requests WHERE ${where}
      GROUP BY ${RUN_KEY}
      ORDER BY run_end DESC, run_key
      LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, limit, offset],
  );
  if (keys.length === 0) return { rows: [], total: Number(total) };
  const rows = await sql.query<LlmRequestRow>(
    `SELECT ${COLUMNS} FROM llm_requests WHERE ${where} AND ${RUN_KEY} = ANY($${params.length + 1}::text[])
      ORDER BY started_at DESC, id`,
    [...params, keys.map((key) => key.run_key)],
  );
  return { rows, total: Number(total) };
}

/** Calls and token sums per UTC day and status since `start`, oldest day first. */
export async function llmRequestBuckets(sql: Sql, bankId: string, start: Date, operation?: string): Promise<LlmRequestBucketRow[]> {
  const params: unknown[] = [bankId, start];
  if (operation) params.push(operation);
  return sql.query<LlmRequestBucketRow>(
    `SELECT to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') AS time,
            status,
            count(*)::int AS count,
            COALESCE(sum(input_tokens), 0) AS input_tokens,
            COALESCE(sum(output_tokens), 0) AS output_tokens,
            COALESCE(sum(cached_tokens), 0) AS cached_tokens,
            COALESCE(sum(total_tokens), 0) AS total_tokens
       FROM llm_requests
      WHERE bank_id = $1 AND started_at >= $2 ${operation ? 'AND operation = $3' : ''}
      GROUP BY 1, status
      ORDER BY 1, status`,
    params,
  );
}
