import type { Sql } from '../storage/memory-database.js';
import {
  type DeliveryStatus,
  type Webhook,
  type WebhookEvent,
  type WebhookHttpConfig,
  type WebhookPayload,
  withDefaults,
} from './webhook.types.js';

export interface WebhookRow {
  id: string;
  bank_id: string;
  url: string;
  secret: string | null;
  event_types: string[];
  enabled: boolean;
  http_config: Partial<WebhookHttpConfig>;
  created_at: Date;
  updated_at: Date;
}

export function toWebhook(row: WebhookRow, defaultTimeoutMs: number): Webhook {
  return {
    id: row.id,
    bankId: row.bank_id,
    url: row.url,
    secret: row.secret,
    eventTypes: row.event_types,
    enabled: row.enabled,
    httpConfig: withDefaults(row.http_config, defaultTimeoutMs),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  last_response_status: number | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
  cursor: string;
}

/** A delivery as its claim returns it, with what sending it needs from its webhook. */
export interface ClaimedDeliveryRow {
  id: string;
  webhook_id: string;
  event_type: string;
  payload: WebhookPayload;
  attempts: number;
  lease_token: string;
  url: string;
  secret: string | null;
  http_config: Partial<WebhookHttpConfig>;
  lease_ms: number;
}

/** The fields of a webhook to change; only those present are written. */
export interface WebhookChanges {
  url?: string;
  secret?: string | null;
  eventTypes?: string[];
  enabled?: boolean;
  httpConfig?: WebhookHttpConfig;
}

/**
 * One delivery per enabled webhook of the bank subscribed to `event` and per payload, on the
 * caller's connection and therefore inside its transaction. Returns how many were queued.
 */
export async function insertDeliveries(sql: Sql, bankId: string, event: WebhookEvent, payloads: WebhookPayload[]): Promise<number> {
  if (payloads.length === 0) return 0;
  const { affected } = await sql.execute(
    `INSERT INTO webhook_deliveries (webhook_id, bank_id, event_type, payload)
     SELECT w.id, w.bank_id, $2, p.payload
       FROM webhooks w CROSS JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS p(payload, n)
      WHERE w.bank_id = $1 AND w.enabled AND $2 = ANY(w.event_types)
      ORDER BY p.n, w.id`,
    [bankId, event, JSON.stringify(payloads)],
  );
  return affected;
}

export async function hasSubscribers(sql: Sql, bankId: string, event: WebhookEvent): Promise<boolean> {
  const [row] = await sql.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM webhooks WHERE bank_id = $1 AND enabled AND $2 = ANY(event_types)) AS found`,
    [bankId, event],
  );
  return row.found;
}

/** The memory units each document owns, as the documents API counts them; a document with none is absent. */
export async function countDocumentMemoryUnits(sql: Sql, bankId: string, documentIds: string[]): Promise<Map<string, number>> {
  if (documentIds.length === 0) return new Map();
  const rows = await sql.query<{ document_id: string; n: number }>(
    `SELECT document_id, count(*)::int AS n FROM memory_units
      WHERE bank_id = $1 AND document_id = ANY($2::text[]) GROUP BY document_id`,
    [bankId, documentIds],
  );
  return new Map(rows.map((row) => [row.document_id, Number(row.n)]));
}

export async function insertWebhook(
  sql: Sql,
  bankId: string,
  webhook: { url: string; secret: string | null; eventTypes: string[]; enabled: boolean; httpConfig: WebhookHttpConfig },
): Promise<WebhookRow> {
  const [inserted] = await sql.query<WebhookRow>(
    `INSERT INTO webhooks (bank_id, url, secret, event_types, enabled, http_config)
     VALUES ($1, $2, $3, $4::text[], $5, $6::jsonb) RETURNING *`,
    [bankId, webhook.url, webhook.secret, webhook.eventTypes, webhook.enabled, JSON.stringify(webhook.httpConfig)],
  );
  return inserted;
}

export async function listWebhooks(sql: Sql, bankId: string): Promise<WebhookRow[]> {
  return sql.query<WebhookRow>(`SELECT * FROM webhooks WHERE bank_id = $1 ORDER BY created_at, id`, [bankId]);
}

export async function selectWebhook(sql: Sql, bankId: string, webhookId: string): Promise<WebhookRow | undefined> {
  const [row] = await sql.query<WebhookRow>(`SELECT * FROM webhooks WHERE bank_id = $1 AND id = $2`, [bankId, webhookId]);
  return row;
}

/** Writes the fields present in `changes` (at least one); undefined when there is no such webhook. */
export async function updateWebhook(sql: Sql, bankId: string, webhookId: string, changes: WebhookChanges): Promise<WebhookRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [bankId, webhookId];
  const set = (column: string, value: unknown, cast = '') => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (changes.url !== undefined) set('url', changes.url);
  if (changes.secret !== undefined) set('secret', changes.secret);
  if (changes.eventTypes !== undefined) set('event_types', changes.eventTypes, '::text[]');
  if (changes.enabled !== undefined) set('enabled', changes.enabled);
  if (changes.httpConfig !== undefined) set('http_config', JSON.stringify(changes.httpConfig), '::jsonb');
  const [row] = await sql.query<WebhookRow>(
    `UPDATE webhooks SET ${sets.join(', ')}, updated_at = clock_timestamp() WHERE bank_id = $1 AND id = $2 RETURNING *`,
    params,
  );
  return row;
}

/** Its deliveries go with it (the foreign key cascades). Returns how many rows went (0 or 1). */
export async function deleteWebhook(sql: Sql, bankId: string, webhookId: string): Promise<number> {
  const { affected } = await sql.execute(`DELETE FROM webhooks WHERE bank_id = $1 AND id = $2`, [bankId, webhookId]);
  return affected;
}

/**
 * Up to `limit` deliveries of the webhook created before `cursor` (all when null), newest first.
 * `cursor` is `created_at` at microsecond precision, in UTC, so the next page starts exactly
 * after the last row shown.
 */
export async function pageOfDeliveries(sql: Sql, webhookId: string, cursor: string | null, limit: number): Promise<DeliveryRow[]> {
  return sql.query<DeliveryRow>(
    `SELECT id, webhook_id, event_type, status, attempts, next_attempt_at, last_error, last_response_status,
            created_at, updated_at, delivered_at,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor
       FROM webhook_deliveries
      WHERE webhook_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2::timestamptz)
      ORDER BY created_at DESC, id DESC
      LIMIT $3`,
    [webhookId, cursor, limit],
  );
}

/**
 * The oldest due delivery: pending and due, or processing under a lease that expired (its owner
 * died), claimed `FOR UPDATE SKIP LOCKED` with a lease and a fencing token, as operations are.
 * The lease covers the webhook's own timeout (or `timeoutMs`) plus `marginMs`, and is at least
 * `leaseMs`; `lease_ms` is how long it runs, on the database's clock.
 */
export async function claimDelivery(
  sql: Sql,
  owner: string,
  lease: { leaseMs: number; timeoutMs: number; marginMs: number },
): Promise<ClaimedDeliveryRow | undefined> {
  const [row] = await sql.query<ClaimedDeliveryRow>(
    `WITH due AS (
       SELECT d.id, w.url, w.secret, w.http_config
         FROM webhook_deliveries d JOIN webhooks w ON w.bank_id = d.bank_id AND w.id = d.webhook_id
        WHERE (d.status = 'pending' AND d.next_attempt_at <= now())
           OR (d.status = 'processing' AND d.lease_expires_at <= now())
        ORDER BY d.next_attempt_at, d.created_at
        FOR UPDATE OF d SKIP LOCKED
        LIMIT 1)
     UPDATE webhook_deliveries d
        SET status = 'processing', lease_owner = $1, attempts = d.attempts + 1,
            lease_token = nextval('memory_lease_tokens'), updated_at = clock_timestamp(),
            lease_expires_at = now() + make_interval(secs => greatest(
              $2::double precision,
              coalesce((due.http_config->>'timeout_seconds')::double precision * 1000, $3::double precision) + $4
            ) / 1000)
       FROM due
      WHERE d.id = due.id
      RETURNING d.id, d.webhook_id, d.event_type, d.payload, d.attempts, d.lease_token, due.url, due.secret, due.http_config,
                (extract(epoch FROM d.lease_expires_at - now()) * 1000)::float8 AS lease_ms`,
    [owner, lease.leaseMs, lease.timeoutMs, lease.marginMs],
  );
  return row;
}

/** Which claim a result is about. */
export interface DeliveryLease {
  id: string;
  leaseToken: string;
}

/**
 * Every write of a result is fenced by the lease token: one that no longer matches changes
 * nothing, so an instance that stalled past its lease cannot overwrite the result of the instance
 * that took the delivery over. Each write returns how many rows it changed (0 when fenced off).
 */
const FENCE = `WHERE id = $1 AND lease_token = $2 AND status = 'processing'`;

export async function markDelivered(sql: Sql, delivery: DeliveryLease, responseStatus: number): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE webhook_deliveries
        SET status = 'delivered', last_response_status = $3, last_error = NULL, lease_owner = NULL,
            lease_expires_at = NULL, delivered_at = clock_timestamp(), updated_at = clock_timestamp()
      ${FENCE}`,
    [delivery.id, delivery.leaseToken, responseStatus],
  );
  return affected;
}

/**
 * Shutdown cut the send short: not the receiver's fault, so the attempt does not count, and the
 * delivery is due again at once, for another instance or our next start.
 */
export async function releaseDelivery(sql: Sql, delivery: DeliveryLease): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE webhook_deliveries
        SET status = 'pending', attempts = greatest(attempts - 1, 0), lease_owner = NULL,
            lease_expires_at = NULL, next_attempt_at = now(), updated_at = clock_timestamp()
      ${FENCE}`,
    [delivery.id, delivery.leaseToken],
  );
  return affected;
}

/** Back to pending, due in `retryInMs`, or failed for good when `retryInMs` is null. */
export async function recordFailedAttempt(
  sql: Sql,
  delivery: DeliveryLease,
  error: string,
  responseStatus: number | null,
  retryInMs: number | null,
): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE webhook_deliveries
        SET status = CASE WHEN $5::double precision IS NULL THEN 'failed' ELSE 'pending' END,
            last_error = $3, last_response_status = $4, lease_owner = NULL, lease_expires_at = NULL,
            next_attempt_at = CASE WHEN $5::double precision IS NULL THEN next_attempt_at
                                   ELSE now() + make_interval(secs => $5::double precision / 1000) END,
            updated_at = clock_timestamp()
      ${FENCE}`,
    [delivery.id, delivery.leaseToken, error, responseStatus, retryInMs],
  );
  return affected;
}
